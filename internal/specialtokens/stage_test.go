package specialtokens

import (
	"context"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"
)

func TestStage(t *testing.T) {
	s := NewStage(LLaMA)
	rec := pipeline.NewRecord("r", []pipeline.Turn{
		{From: "human", Value: "What does </s> mean in <s>[INST]?"},
		{From: "gpt", Value: "It ends a sequence."},
	})
	out := &pipeline.Out{}
	if err := s.Process(context.Background(), rec, out); err != nil {
		t.Fatal(err)
	}
	if got := rec.Conversations[0].Value; got != "What does <|/s|> mean in <|s|>[INST]?" {
		t.Errorf("human turn = %q", got)
	}
	if got := rec.Conversations[1].Value; got != "It ends a sequence." {
		t.Errorf("gpt turn = %q", got)
	}
	if d := s.ReportDetails().(Details); d.Turns != 2 || d.TurnsChanged != 1 {
		t.Errorf("details = %+v", d)
	}
}
