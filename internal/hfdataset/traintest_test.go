package hfdataset

import "testing"

func TestTrainTestFiles(t *testing.T) {
	for _, tt := range []struct{ in, train, test string }{
		{"sharegpt_clean.json", "sharegpt_clean_train.json", "sharegpt_clean_test.json"},
		{"out/data.jsonl", "out/data_train.jsonl", "out/data_test.jsonl"},
		{"data", "data_train.json", "data_test.json"},
		{"v1.2/data.json", "v1.2/data_train.json", "v1.2/data_test.json"},
	} {
		if train, test := TrainTestFiles(tt.in); train != tt.train || test != tt.test {
			t.Errorf("TrainTestFiles(%q) = %q, %q; want %q, %q", tt.in, train, test, tt.train, tt.test)
		}
	}
}
