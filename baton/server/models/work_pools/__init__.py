"""Work pools, their queues and workers, and the runs a worker's poll may take."""
