package augment

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// cacheVersion is written into every entry; entries of another version are
// misses.
const cacheVersion = 1

// requestKey is what an answer depends on: the model, the messages and the
// sampling parameters (not the server's address). Its SHA-256 over the
// canonical JSON form is the cache key.
type requestKey struct {
	Model       string         `json:"model"`
	Messages    []Message      `json:"messages"`
	Temperature float64        `json:"temperature"`
	MaxTokens   int            `json:"max_tokens"`
	Extra       map[string]any `json:"extra,omitempty"` // json sorts map keys
	Variant     int            `json:"variant"`
}

func (k *requestKey) hash() (string, error) {
	b, err := json.Marshal(k)
	if err != nil {
		return "", fmt.Errorf("request key: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// cacheEntry is one file of the cache.
type cacheEntry struct {
	Version int        `json:"version"`
	Key     string     `json:"key"`
	Request requestKey `json:"request"`
	Answer  answer     `json:"answer"`
	// Source is "batch" for an answer read from a batch output file
	// (whose request is known by its key only).
	Source string `json:"source,omitempty"`
}

// Cache is a directory of answers, one file per request key
// (DIR/ab/abcdef....json), each written to a temporary file, fsynced and
// renamed into place, so a crash leaves either the whole entry or none.
// Safe for concurrent use, also by several processes.
type Cache struct {
	dir  string
	mu   sync.Mutex
	dirs map[string]bool // shard directories known to exist (and synced)
}

// OpenCache opens (creating) a cache directory.
func OpenCache(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache %s: %w", dir, err)
	}
	return &Cache{dir: dir, dirs: map[string]bool{}}, nil
}

func (c *Cache) path(key string) string {
	return filepath.Join(c.dir, key[:2], key+".json")
}

// errCorrupt marks an unreadable entry (it is then treated as a miss and
// overwritten).
var errCorrupt = errors.New("corrupt cache entry")

// get returns the entry for key, ok false when there is none. A damaged
// entry is a miss with errCorrupt; other read errors are returned.
func (c *Cache) get(key string) (cacheEntry, bool, error) {
	data, err := os.ReadFile(c.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return cacheEntry{}, false, nil
	}
	if err != nil {
		return cacheEntry{}, false, fmt.Errorf("cache: %w", err)
	}
	var e cacheEntry
	if json.Unmarshal(data, &e) != nil || e.Key != key {
		return cacheEntry{}, false, errCorrupt
	}
	if e.Version != cacheVersion {
		return cacheEntry{}, false, nil
	}
	return e, true, nil
}

// put writes an entry durably: temporary file, fsync, rename, fsync of the
// directory.
func (c *Cache) put(key string, e cacheEntry) error {
	e.Version, e.Key = cacheVersion, key
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	shard := filepath.Join(c.dir, key[:2])
	if err := c.ensureDir(shard); err != nil {
		return err
	}
	var suffix [8]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	tmp := filepath.Join(shard, ".tmp-"+key[:16]+"-"+hex.EncodeToString(suffix[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	_, werr := f.Write(append(data, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("cache: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, c.path(key)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("cache: %w", err)
	}
	return syncDir(shard)
}

// ensureDir creates a shard directory once and makes its entry durable.
func (c *Cache) ensureDir(dir string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirs[dir] {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := syncDir(c.dir); err != nil {
		return err
	}
	c.dirs[dir] = true
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("cache: sync %s: %w", dir, err)
	}
	return nil
}

// Len counts the entries in the cache (for tests and reports).
func (c *Cache) Len() (int, error) {
	n := 0
	err := filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Ext(path) == ".json" && filepath.Base(path)[0] != '.' {
			n++
		}
		return nil
	})
	return n, err
}
