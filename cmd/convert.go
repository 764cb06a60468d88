package cmd

import (
	"github.com/spf13/cobra"
)

func newConvertCmd(ios *IOStreams) *cobra.Command {
	var f ioFlags
	c := &cobra.Command{
		Use:   "convert [INPUT...]",
		Short: "Convert records between formats and styles",
		Long: `Convert reads records in any supported format (JSON array, JSONL; gzip or zstd
compressed) and style (ShareGPT or OpenAI messages) and writes them in another,
keeping every field. Several inputs are merged in order.`,
		Example: `  sharegpt convert -i sharegpt.json -o sharegpt.jsonl
  sharegpt convert -i chats.jsonl.zst --output-style openai -o - | head
  cat a.jsonl b.jsonl | sharegpt convert -o merged.json`,
		RunE: func(c *cobra.Command, args []string) error {
			job, err := f.job("convert", args, ios)
			if err != nil {
				return err
			}
			job.AllowNoConversations = true
			_, err = f.run(c.Context(), job, ios)
			return err
		},
	}
	f.bind(c, true)
	return c
}
