"""Running student code: a child process with limits, fed a probe plan, answering in plain numbers."""
