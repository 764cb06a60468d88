package pipeline

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSize parses a size such as 500MB, 1GiB, 64k or 1000 (bytes), the
// way Hugging Face datasets reads max_shard_size: KB, MB, GB and TB are
// powers of 1000, KiB, MiB, GiB and TiB (and k, m, g alone) powers of 1024.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	var mult float64
	switch unit {
	case "", "b":
		mult = 1
	case "kb":
		mult = 1e3
	case "mb":
		mult = 1e6
	case "gb":
		mult = 1e9
	case "tb":
		mult = 1e12
	case "k", "kib":
		mult = 1 << 10
	case "m", "mib":
		mult = 1 << 20
	case "g", "gib":
		mult = 1 << 30
	case "t", "tib":
		mult = 1 << 40
	default:
		return 0, fmt.Errorf("invalid size %q (want a number with B, KB, MB, GB, KiB, MiB or GiB)", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || v*mult > math.MaxInt64/2 {
		return 0, fmt.Errorf("invalid size %q (want a positive number with B, KB, MB, GB, KiB, MiB or GiB)", s)
	}
	return int64(v * mult), nil
}
