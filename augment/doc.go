// Package augment makes new training conversations from existing ones
// through a locally hosted chat model that speaks the OpenAI API
// (FastChat's openai_api_server, vLLM, llama.cpp's llama-server, Ollama).
//
// # Methods
//
// Backtranslation sends each selected turn to the model to be translated
// into a pivot language and then back into the turn's own language;
// paraphrase asks for the same meaning in other words. Each pivot (and
// each variant) of a record gives one augmented record, with the id
// ORIGINALID#bt-de-0 (ORIGINALID#para-0 for paraphrases) and two fields:
// augmented_from (the original id) and augmentation (method, pivot, model,
// prompt version, similarity). Turns of other roles are copied unchanged.
// An augmented record is all or nothing: if one of its turns fails a gate,
// the record is rejected with that turn's reason.
//
// # Protection and gates
//
// Code blocks, inline code, URLs and Markdown tables are replaced by
// placeholders ([[CODE_1]], [[URL_2]], [[TABLE_3]]) before a text is sent
// and restored in the answer; an answer that lost a placeholder
// (placeholder-missing) or altered, repeated or moved one
// (placeholder-altered) is rejected. Every answer then passes gates, each
// with its reason code: empty-answer, refusal (a refusal phrase absent from
// the source), truncated (the model hit max_tokens), wrong-language
// (lingua: the pivot text must be in the pivot language, the final text in
// the source's language), length-ratio, too-similar and too-different (chrF
// against the source, outside [MinSim, MaxSim]). A request that failed for
// good is request-failed; work left undone by a stop is stopped.
//
// # Requests, faults and the cache
//
// Requests go out over plain net/http, at most Concurrency at a time and
// at most RPS per second. Connection errors, timeouts, malformed answers,
// 429 and 5xx are retried with exponential backoff and jitter, honouring
// Retry-After; other 4xx are not retried. Of an answer, at most
// 8 KiB of an error and ResponseLimit bytes of a success are read (the
// connection is closed on the rest); a success body over the limit fails
// as response-too-large and is not retried. After MaxConsecutiveFailures
// requests in a row failed for good, no new request is sent: every record
// still passes through (its pending augmentations rejected as stopped), so
// everything finished so far is written, and [Augmenter.Stopped] says why.
// The MaxRequests and MaxTotalTokens budgets stop the same way.
//
// Every answer is written to a content-addressed cache before it is used
// (one file per answer, written to a temporary name, fsynced and renamed).
// The key covers the model, the messages and the sampling parameters, not
// the server's address. A rerun of the same command, after a kill -9 or a
// stop, takes every answer it already has from the cache, sends only the
// requests that never got an answer, and writes the same output as an
// uninterrupted run; identical requests within a run are sent once.
//
// # Several endpoints
//
// Options.BaseURLs (and an EndpointsFile, read again on SIGHUP) name
// several servers of the same model, e.g. one llama-server or vLLM per
// GPU. At the start every endpoint is asked GET /models: one that answers
// without listing the model fails New (*ModelMismatchError); one that does
// not answer starts out of the pool. Each request goes to the live
// endpoint with the fewest requests in flight, within its cap
// (EndpointConcurrency, or the file's per-line value). A connection
// error, timeout, 5xx or malformed answer takes the endpoint out: the
// request is sent again at once to another live endpoint (a failover, not
// a retry), and the endpoint is probed on GET /models with backoff
// (BackoffBase to BackoffMax) until it lists the model, before it gets
// traffic again. When every endpoint is out, requests wait with the
// usual retries and backoff (woken when one returns) and then fail, so a
// run with no endpoint left stops as with one server. With a single
// endpoint nothing is taken out: failures are retried on it. Stats lists
// each endpoint's requests, answers, failures, latency percentiles and
// completion tokens per second; the histogram behind them has a fixed
// size.
//
// # Offline batch
//
// EmitBatch writes the requests the cache cannot answer as OpenAI Batch
// API JSONL (custom_id: the cache key; body: what the online path sends)
// in shards of ShardRows lines and a manifest, written last. IngestBatch
// reads batch output lines ({"custom_id", "response": {"status_code",
// "body"}} or "error") into the cache: error lines, other statuses and
// malformed bodies are counted and not cached (the next emit asks again),
// a custom_id already answered keeps its first answer. The run that
// follows is Offline: it takes every answer from the cache, rejects
// requests without one as stopped, contacts no server, and writes what the
// online path writes with the same answers. A backtranslation's second
// request depends on the first answer, so it takes two rounds of emit,
// batch and ingest; the emit and offline summaries say which is next.
//
// The API key (OPENAI_API_KEY) is sent as a bearer token and appears in no
// error, report or dry-run output. Every text shown of an answer, an error
// or a URL is redacted first and only then cut: the key (as written, JSON-
// or URL-escaped) and every start of it of 6 bytes or more, the password
// and secret query values of the base URL, and whatever looks like a
// credential (URL userinfo, query parameters and JSON members named like
// key, token, secret or password, Authorization headers, bearer tokens,
// sk-, hf_ and AKIA keys).
package augment
