// Package measure evaluates outcome and quality measures over the health
// record and reports them as FHIR MeasureReports, with the patients (or
// stays) behind every number.
//
// A measure is a Definition: its populations (initial population,
// denominator, exclusions, numerator; or measure population and
// observation for a continuous variable), each decided by a Criterion; its
// basis (one case per patient, or per encounter); and its stratifiers
// (month, age band, sex, service, attending). Evaluate runs it over a
// Record for a period: the Record is a compact in-memory projection of
// patients, encounters, diagnoses (with present-on-admission from coded
// claims), procedures, HbA1c results and blood pressures, built by one
// streaming pass over the store (Record.Load) and kept current by a
// store.Watcher (Record.Watcher).
//
// # Starting without reading the whole record
//
// A Projection keeps the record's facts in the database (Facts; package
// measure/factdb implements it on both engines): each projected
// resource's version and the elements the record reads of it, with the
// store's change position they reflect. A start reads the facts and then
// only the versions written after that position (by this process before
// a crash, by another process, or while stopped); the whole record is
// read once, at a first start or when the facts' format changes (the
// parsed shapes, or the observation codes kept). The projection saves
// what changed every few minutes and when serving stops.
//
// # A CQL engine
//
// Criterion is the seam. A CQL/ELM engine plugs in by compiling a
// measure's Library and giving, for each population's criteria expression
// ("define \"Denominator\": …"), a Criterion whose Match evaluates the
// expression for the case's patient (and encounter, for an
// Encounter-based population basis); a Definition built from a FHIR
// Measure (its group.population.criteria naming the Library's
// expressions) then evaluates, stratifies and reports exactly like the
// built-in ones. The engine's data provider can read the Record (the
// case's Patient, Encounters, Conditions and Observations) or the store.
//
// Code value sets are CodeSets: ICD-10 entries over the code's shape
// (category ranges such as I21-I22, and prefixes), with Hierarchy as the
// seam for a terminology service's real hierarchy.
package measure
