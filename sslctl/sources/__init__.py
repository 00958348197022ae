"""File sources that are streamed rather than held in memory: folders of any size (listed once,
cached), list files, and WebDataset shards; decoded in DataLoader worker processes."""
