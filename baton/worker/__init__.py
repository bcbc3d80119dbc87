"""`baton worker start`: a process that polls a work pool and runs its flow runs as subprocesses."""
