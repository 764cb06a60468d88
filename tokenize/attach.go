package tokenize

import (
	"github.com/sharegpt/sharegpt/internal/hfdataset"
	"github.com/sharegpt/sharegpt/pipeline"
)

// Attach sets job up to run stage and write its rows: as JSONL through
// the job's own output, or, when the output is a table file (TableOptions
// Path and Format, see IsTable) or a Hugging Face folder, through a
// TableSink that commits when the run succeeds. The outputs are checked
// before anything is read. The caller must Abort the returned sink (nil
// for JSONL) when the run fails; Abort after Commit does nothing.
func Attach(job *pipeline.Job, stage *Stage, o TableOptions) (*TableSink, error) {
	job.Stages = []pipeline.Stage{stage}
	folder := o.HFDisk != "" || o.HFHub != ""
	switch {
	case o.HFDisk != "":
		job.Output = ""
		job.Folders, job.OtherFiles = hfdataset.Replaces(hfdataset.Disk, o.HFDisk)
	case o.HFHub != "":
		job.Output = ""
		job.Folders, job.OtherFiles = hfdataset.Replaces(hfdataset.Hub, o.HFHub)
	}
	if err := job.CheckOutputs(); err != nil {
		return nil, err
	}
	if !folder && !IsTable(o.Path, o.Format) {
		return nil, nil
	}
	if folder {
		o.Path = ""
	}
	sink, err := OpenTable(o)
	if err != nil {
		return nil, err
	}
	job.Sink = sink
	job.Finish = func(r *pipeline.Report) error {
		if err := sink.Commit(); err != nil {
			return err
		}
		for _, s := range sink.Shards() {
			r.BytesOut += s.Bytes
		}
		return nil
	}
	return sink, nil
}
