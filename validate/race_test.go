//go:build race

package validate

// raceEnabled: the race detector allocates beside the code it watches, so
// allocation bounds are not checked under it (make race).
const raceEnabled = true
