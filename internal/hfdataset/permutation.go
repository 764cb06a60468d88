package hfdataset

import "github.com/sharegpt/sharegpt/internal/nprand"

// Permutation returns what np.random.seed(seed); np.random.permutation(n)
// returns: the numbers 0..n-1 shuffled by numpy's legacy RandomState
// (Fisher–Yates from the end, j = random_interval(i)). n is at most
// nprand.MaxPermutation.
func Permutation(n int, seed uint32) ([]int, error) {
	p, err := nprand.New(seed).Permutation(int64(n))
	if err != nil {
		return nil, err
	}
	perm := make([]int, n)
	for i, v := range p {
		perm[i] = int(v)
	}
	return perm, nil
}

// SplitPoint returns the number of training examples FastChat's
// split_train_test keeps: int(ratio * n).
func SplitPoint(n int, ratio float64) int {
	return int(ratio * float64(n))
}
