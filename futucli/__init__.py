"""futucli: the human's tool — API keys, trade unlock, audit log, simulator, demo."""
