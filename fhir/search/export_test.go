package search

// EngineOnly returns a copy of r that evaluates every parameter with the
// FHIRPath engine, for comparison with the compiled plans.
func (r *Registry) EngineOnly() *Registry {
	c := *r
	c.engineOnly = true
	return &c
}

// PlanCoverage counts the indexed parameters evaluated by plans.
func (r *Registry) PlanCoverage() (planned, all int) {
	for _, ps := range r.byType {
		for _, p := range ps {
			if p.indexed {
				all++
				if p.plans != nil {
					planned++
				}
			}
		}
	}
	return
}
