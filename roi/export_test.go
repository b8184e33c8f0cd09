package roi

// TaskOf is Request.task, for tests that load many requests at once.
func TaskOf(r *Request) map[string]any { return r.task() }
