// Package hfdataset writes the folder layouts Hugging Face datasets loads,
// for tables of any Arrow schema, and exports conversation records to them.
//
//   - The save_to_disk layout ([Disk]): data-00000-of-0000N.arrow files
//     (Arrow IPC streams, with the "huggingface" schema metadata),
//     dataset_info.json and state.json exactly as datasets writes them, which
//     datasets.load_from_disk opens; with several splits a DatasetDict:
//     dataset_dict.json and one such folder per split. The folder is built
//     beside its target and renamed into place on Commit.
//   - The Hub layout ([Hub]): data/SPLIT-00000-of-0000N.parquet and a
//     README.md dataset card whose YAML header declares the configs (data
//     files per split) and dataset_info (features, splits, sizes), ready to
//     upload; load_dataset reads the folder as it is.
//
// [Permutation] reproduces numpy's legacy np.random.seed(seed);
// np.random.permutation(n) exactly (MT19937 and numpy's bounded-integer
// Fisher–Yates shuffle), so [Export] with a split ratio makes the same
// train/test split as FastChat's split_train_test.py.
package hfdataset
