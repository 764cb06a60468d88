package augment

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pemistahl/lingua-go"

	"github.com/sharegpt/sharegpt/internal/lang"
	"github.com/sharegpt/sharegpt/pipeline"
)

// Method is how a turn is rewritten.
type Method string

// Methods.
const (
	Backtranslate Method = "backtranslate"
	Paraphrase    Method = "paraphrase"
)

// ParseMethod parses a --method value.
func ParseMethod(s string) (Method, error) {
	switch m := Method(strings.ToLower(strings.TrimSpace(s))); m {
	case Backtranslate, Paraphrase:
		return m, nil
	}
	return "", fmt.Errorf("unknown method %q (want backtranslate or paraphrase)", s)
}

// ParseRoles parses a --roles value: human, gpt or all.
func ParseRoles(s string) (string, error) {
	switch r := strings.ToLower(strings.TrimSpace(s)); r {
	case pipeline.RoleHuman, pipeline.RoleGPT, "all":
		return r, nil
	}
	return "", fmt.Errorf("unknown roles %q (want human, gpt or all)", s)
}

// ParsePivots parses a comma-separated list of ISO 639-1 pivot languages.
func ParsePivots(s string) ([]string, error) {
	var out []string
	for _, code := range strings.Split(s, ",") {
		code = strings.ToLower(strings.TrimSpace(code))
		if code == "" {
			continue
		}
		if languageName(code) == "" {
			return nil, fmt.Errorf("unknown ISO 639-1 language code %q", code)
		}
		if !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	return out, nil
}

// Defaults.
const (
	DefaultBaseURL                = "http://127.0.0.1:8000/v1"
	DefaultTimeout                = 2 * time.Minute
	DefaultTemperature            = 0.7
	DefaultConcurrency            = 4
	DefaultRetries                = 4
	DefaultMaxConsecutiveFailures = 10
	DefaultMinSim                 = 0.3
	DefaultMaxSim                 = 0.95
	DefaultMinLengthRatio         = 0.5
	DefaultMaxLengthRatio         = 2.0
	DefaultBackoffBase            = 500 * time.Millisecond
	DefaultBackoffMax             = 30 * time.Second
	DefaultMaxRetryAfter          = 10 * time.Minute
	// DefaultShardRows is the OpenAI Batch API's limit of requests a file.
	DefaultShardRows = 50000
)

// Options configure an [Augmenter]. [DefaultOptions] fills in the
// defaults; zero numbers other than the budgets are invalid.
type Options struct {
	// Server and sampling.
	BaseURL string // OpenAI-compatible API root, with /v1; used when BaseURLs and EndpointsFile name none
	// BaseURLs are several API roots serving the same model (one server
	// per GPU): each request goes to the live endpoint with the fewest
	// requests in flight. With more than one endpoint (or an
	// EndpointsFile), an endpoint that fails (connection error, timeout,
	// 5xx, malformed answer) is taken out, health-probed on GET /models
	// with backoff, and gets traffic again once it lists Model; the
	// request that failed is retried at once on another endpoint.
	BaseURLs []string
	// EndpointsFile names a file of endpoints, one "URL [CONCURRENCY]" a
	// line (# comments), added to BaseURLs; it is read again on SIGHUP
	// (and by [Augmenter.ReloadEndpoints]): new endpoints are probed
	// before they get traffic, endpoints no longer listed get no new
	// requests.
	EndpointsFile string
	// EndpointConcurrency caps the requests in flight on each endpoint (a
	// line of EndpointsFile may set its own); 0: Concurrency, the cap of
	// the whole run.
	EndpointConcurrency int
	Model               string // "": the first model GET /models lists
	APIKey              string // sent as a bearer token when set; never printed
	Timeout             time.Duration
	Temperature         float64
	// MaxTokens limits each answer; 0 derives it from the text sent
	// (4 × its token count + 64, counted by Tokenizer).
	MaxTokens int
	// Tokenizer counts the tokens sent for the default MaxTokens; nil is
	// the embedded LLaMA tokenizer.
	Tokenizer interface{ Count(text string) int }
	// MaxResponseBytes limits the body of a successful answer; 0 derives
	// it from each request's max_tokens (see ResponseLimit).
	MaxResponseBytes int64
	// ExtraBody is merged into every request body (logit_bias, seed,
	// top_p, stop...); it is part of the cache key.
	ExtraBody map[string]any

	// What to do.
	Method   Method
	Pivots   []string // ISO 639-1 codes (backtranslate)
	Roles    string   // human, gpt or all
	Variants int      // augmented records per record and pivot
	Prompts  *Prompts // nil: the built-in prompts
	// DropOriginal writes only the augmented records.
	DropOriginal bool

	// Gates.
	MinSim, MaxSim                 float64 // chrF to the source, 0..1
	MinLengthRatio, MaxLengthRatio float64 // answer / source characters
	// Languages restricts the candidates of the language detector (less
	// memory, faster); empty means all 75 lingua languages. The source
	// languages of the data and the pivots must be among them; pivots are
	// added.
	Languages      []string
	RefusalPhrases []string // nil: lang.RefusalPhrases

	// Faults and pace.
	Concurrency            int     // requests in flight
	RPS                    float64 // requests per second; 0: no limit
	Retries                int     // retries of one request after its first attempt
	MaxConsecutiveFailures int     // requests in a row that failed for good before the run stops
	BackoffBase            time.Duration
	BackoffMax             time.Duration
	MaxRetryAfter          time.Duration // a longer Retry-After fails the request

	// Cache and budgets.
	CacheDir       string // required unless DryRun
	MaxRequests    int64  // HTTP requests sent, retries included; 0: no limit
	MaxTotalTokens int64  // tokens used (prompt + completion); 0: no limit

	// DryRun, when set, receives the requests that would be sent (JSONL),
	// and nothing is sent.
	DryRun io.Writer

	// Offline batch (see [IngestBatch] and the package documentation).
	// EmitBatch, when set, is a directory that receives the requests the
	// cache cannot answer as OpenAI Batch API JSONL shards of at most
	// ShardRows lines (custom_id: the cache key) and a manifest; nothing
	// is sent and no output is written.
	EmitBatch string
	ShardRows int // 0: DefaultShardRows
	// IngestBatch names batch output files whose answers New stores in
	// the cache before the run; the run is then Offline (with EmitBatch
	// too, it writes the next round's requests).
	IngestBatch []string
	// Offline runs from the cache alone: no server is contacted, and a
	// request the cache cannot answer is rejected as stopped.
	Offline bool

	// Log, when set, receives a line when an endpoint is taken out,
	// returns, or the endpoints file is read again (redacted).
	Log io.Writer

	// HTTPClient is used for requests when set (tests); its Timeout is
	// left alone, each attempt gets Options.Timeout.
	HTTPClient *http.Client
}

// DefaultOptions returns options with every default filled in.
func DefaultOptions() Options {
	return Options{
		BaseURL:                DefaultBaseURL,
		Timeout:                DefaultTimeout,
		Temperature:            DefaultTemperature,
		Method:                 Backtranslate,
		Pivots:                 []string{"de"},
		Roles:                  pipeline.RoleHuman,
		Variants:               1,
		MinSim:                 DefaultMinSim,
		MaxSim:                 DefaultMaxSim,
		MinLengthRatio:         DefaultMinLengthRatio,
		MaxLengthRatio:         DefaultMaxLengthRatio,
		Concurrency:            DefaultConcurrency,
		Retries:                DefaultRetries,
		MaxConsecutiveFailures: DefaultMaxConsecutiveFailures,
		BackoffBase:            DefaultBackoffBase,
		BackoffMax:             DefaultBackoffMax,
		MaxRetryAfter:          DefaultMaxRetryAfter,
	}
}

// Validate checks the options (New does too).
func (o *Options) Validate() error {
	for _, u := range o.BaseURLs {
		if err := checkURL(o.APIKey, u); err != nil {
			return err
		}
	}
	switch {
	case len(o.BaseURLs) == 0 && o.EndpointsFile == "" && o.BaseURL == "":
		return fmt.Errorf("no base URL")
	case len(o.BaseURLs) == 0 && o.EndpointsFile == "" && checkURL(o.APIKey, o.BaseURL) != nil:
		return checkURL(o.APIKey, o.BaseURL)
	case o.EndpointConcurrency < 0:
		return fmt.Errorf("endpoint concurrency must not be negative")
	case o.ShardRows < 0:
		return fmt.Errorf("shard rows must not be negative")
	case o.EmitBatch != "" && o.DryRun != nil:
		return fmt.Errorf("emitting a batch excludes a dry run")
	case (o.EmitBatch != "" || o.Offline || len(o.IngestBatch) > 0) && o.Model == "":
		return fmt.Errorf("an offline or batch run needs the model named: no server is asked for it")
	case o.Method != Backtranslate && o.Method != Paraphrase:
		return fmt.Errorf("unknown method %q", o.Method)
	case o.Method == Backtranslate && len(o.Pivots) == 0:
		return fmt.Errorf("backtranslate needs at least one pivot language")
	case o.Method == Paraphrase && len(o.Pivots) > 0:
		return fmt.Errorf("paraphrase takes no pivot language")
	case o.Roles != pipeline.RoleHuman && o.Roles != pipeline.RoleGPT && o.Roles != "all":
		return fmt.Errorf("roles must be human, gpt or all, not %q", o.Roles)
	case o.Variants < 1:
		return fmt.Errorf("variants must be at least 1")
	case o.Timeout <= 0:
		return fmt.Errorf("timeout must be positive")
	case !(o.Temperature >= 0 && o.Temperature <= 2):
		return fmt.Errorf("temperature %g is outside [0, 2]", o.Temperature)
	case o.MaxTokens < 0:
		return fmt.Errorf("max tokens must not be negative")
	case o.MaxResponseBytes < 0:
		return fmt.Errorf("max response bytes must not be negative")
	case !(o.MinSim >= 0 && o.MaxSim <= 1 && o.MinSim <= o.MaxSim):
		return fmt.Errorf("similarity bounds [%g, %g] must satisfy 0 <= min <= max <= 1", o.MinSim, o.MaxSim)
	case !(o.MinLengthRatio >= 0 && o.MinLengthRatio <= o.MaxLengthRatio):
		return fmt.Errorf("length ratio bounds [%g, %g] must satisfy 0 <= min <= max", o.MinLengthRatio, o.MaxLengthRatio)
	case o.Concurrency < 1:
		return fmt.Errorf("concurrency must be at least 1")
	case !(o.RPS >= 0):
		return fmt.Errorf("rps must not be negative")
	case o.Retries < 0:
		return fmt.Errorf("retries must not be negative")
	case o.MaxConsecutiveFailures < 1:
		return fmt.Errorf("max consecutive failures must be at least 1")
	case o.BackoffBase <= 0 || o.BackoffMax < o.BackoffBase:
		return fmt.Errorf("backoff must satisfy 0 < base <= max")
	case o.MaxRequests < 0 || o.MaxTotalTokens < 0:
		return fmt.Errorf("budgets must not be negative")
	case o.CacheDir == "" && (o.DryRun == nil || o.EmitBatch != ""):
		return fmt.Errorf("no cache directory: every answer is kept in the cache before it is used")
	}
	for _, p := range o.Pivots {
		if languageName(p) == "" {
			return fmt.Errorf("unknown pivot language %q", p)
		}
	}
	for k := range o.ExtraBody {
		switch k {
		case "model", "messages", "stream", "n":
			return fmt.Errorf("extra body cannot set %q", k)
		}
	}
	return nil
}

// checkURL checks that an API root is an http(s) URL.
func checkURL(apiKey, u string) error {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("base URL %q: want http:// or https://", newRedactor(apiKey, u).redact(u))
	}
	return nil
}

// ParseExtraBody parses a JSON object of extra request members.
func ParseExtraBody(s string) (map[string]any, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("extra body: want a JSON object: %w", err)
	}
	return m, nil
}

// languageName returns the English name of an ISO 639-1 language ("de":
// "German"), or "" for an unknown code.
func languageName(code string) string {
	lang := lingua.GetLanguageFromIsoCode639_1(lingua.GetIsoCode639_1FromValue(code))
	if lang == lingua.Unknown {
		return ""
	}
	name := strings.ToLower(lang.String())
	return strings.ToUpper(name[:1]) + name[1:]
}

// languageOptions builds the detector's options from Options.Languages.
func (o *Options) languageOptions() lang.Options {
	lo := lang.Options{}
	if len(o.Languages) > 0 {
		lo.Candidates = append([]string(nil), o.Languages...)
		for _, p := range o.Pivots {
			if !slices.Contains(lo.Candidates, p) {
				lo.Candidates = append(lo.Candidates, p)
			}
		}
	}
	return lo
}
