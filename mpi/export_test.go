package mpi

// CandidateIDs returns the pairs blocking proposed in a run, as ids.
func CandidateIDs(r *Result) [][2]string {
	out := make([][2]string, len(r.candidates))
	for i, p := range r.candidates {
		out[i] = [2]string{r.entries[p>>32].id, r.entries[uint32(p)].id}
	}
	return out
}

// WithinOneEdit exposes withinOneEdit to the tests.
var WithinOneEdit = withinOneEdit
