package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
)

// DefaultChecksum is the SHA-256 of the embedded LLaMA tokenizer.model, in
// hex: what `sharegpt version` prints, so that a run can be tied to the
// exact vocabulary it tokenized with.
func DefaultChecksum() string {
	sum := sha256.Sum256(llamaModel)
	return hex.EncodeToString(sum[:])
}
