// Package schemas holds the JSON Schemas (2020-12) that define the shape
// of the data sharegpt reads and writes. sharegpt.schema.json is the single
// source of truth for a conversation record; `sharegpt validate` applies it.
package schemas

import "embed"

// FS holds the schema files.
//
//go:embed *.schema.json
var FS embed.FS

// Record is the file name of the conversation record schema in FS.
const Record = "sharegpt.schema.json"
