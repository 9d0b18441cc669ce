"""What a run is and does: RunSpec, the networks, train(), its result and status, evaluation."""
