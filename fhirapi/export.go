package fhirapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/bulk"
	"github.com/custodian-him/custodian/store"
)

// Canonical URLs of the Bulk Data export operations.
const (
	exportDefinition        = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
	patientExportDefinition = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
	groupExportDefinition   = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"
)

// ExportOperations are the Bulk Data $export operations run by x: the
// kick-off at system, Patient and Group level (GET or POST, with
// Prefer: respond-async), the status of a job at $export-status?job={id}
// (GET to poll, DELETE to cancel) and its files at
// $export-file?job={id}&file={name}. (Query parameters, not path
// segments: /fhir/{type}/{id}/_history and the like would clash.) baseURL is the API's public URL
// ("https://host/fhir"); when empty it is taken from each request.
func ExportOperations(x *bulk.Exporter, baseURL string) []Operation {
	e := &exportAPI{x: x, h: &Handler{BaseURL: baseURL}}
	var ops []Operation
	for _, m := range []string{"GET", "POST"} {
		ops = append(ops,
			Operation{Pattern: m + " /fhir/$export", Name: "export", Definition: exportDefinition, Handle: e.kickoff(bulk.System)},
			Operation{Pattern: m + " /fhir/Patient/$export", Name: "export", Type: "Patient", Definition: patientExportDefinition, Handle: e.kickoff(bulk.Patient)},
			Operation{Pattern: m + " /fhir/Group/{id}/$export", Name: "export", Type: "Group", Definition: groupExportDefinition, Handle: e.kickoff(bulk.Group)},
		)
	}
	return append(ops,
		Operation{Pattern: "GET /fhir/$export-status", Handle: e.status},
		Operation{Pattern: "DELETE /fhir/$export-status", Handle: e.cancel},
		Operation{Pattern: "GET /fhir/$export-file", Handle: e.file},
	)
}

type exportAPI struct {
	x *bulk.Exporter
	h *Handler // for the base URL
}

// preferences reads the Prefer header's tokens (respond-async,
// handling=strict, …).
func preferences(r *http.Request) map[string]string {
	out := map[string]string{}
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			out[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return out
}

func (e *exportAPI) kickoff(level bulk.Level) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		prefer := preferences(r)
		if _, ok := prefer["respond-async"]; !ok {
			return custodian.Errorf(custodian.EINVALID, "$export runs asynchronously: send the header Prefer: respond-async")
		}
		group := r.PathValue("id")
		if level == bulk.Group && !store.ValidID(group) {
			return custodian.Errorf(custodian.EINVALID, "%q is not a valid Group id", group)
		}
		p, err := ReadParams(w, r)
		if err != nil {
			return err
		}
		params := bulk.Params{}
		for _, name := range p.Names() {
			params[name] = append(params[name], p.All(name)...)
		}
		for _, part := range p.Parts("patient") {
			ref, _ := part["valueReference"].(map[string]any)
			s, _ := ref["reference"].(string)
			if s == "" {
				return custodian.Errorf(custodian.EINVALID, "a patient parameter must be a valueReference to a Patient")
			}
			params["patient"] = append(params["patient"], s)
		}
		base := e.h.base(r)
		kick := base + strings.TrimPrefix(r.URL.Path, "/fhir")
		if r.URL.RawQuery != "" {
			kick += "?" + r.URL.RawQuery
		}
		j, err := e.x.Kickoff(r.Context(), level, group, params, kick, prefer["handling"] == "strict")
		if err != nil {
			return err
		}
		w.Header().Set("Content-Location", base+"/$export-status?job="+j.ID)
		writeJSON(w, http.StatusAccepted, informational("export job "+j.ID+" accepted; poll its Content-Location for the status"))
		return nil
	}
}

func (e *exportAPI) status(w http.ResponseWriter, r *http.Request) error {
	j, err := e.x.Job(r.Context(), r.URL.Query().Get("job"))
	if err != nil {
		return err
	}
	switch j.State {
	case bulk.Accepted, bulk.Running:
		w.Header().Set("X-Progress", j.ProgressText())
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusAccepted)
		return nil
	case bulk.Failed:
		msg := j.Error
		if msg == "" {
			msg = "the export failed"
		}
		writeJSON(w, http.StatusInternalServerError, map[string]any{"resourceType": "OperationOutcome", "issue": []any{
			map[string]any{"severity": "error", "code": "exception", "diagnostics": "export job " + j.ID + " failed: " + msg}}})
		return nil
	}
	base := e.h.base(r)
	m := j.Manifest(func(job, name string) string {
		return base + "/$export-file?job=" + job + "&file=" + url.QueryEscape(name)
	})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the file URLs' "&" as written
	if err := enc.Encode(m); err != nil {
		return err
	}
	b := buf.Bytes()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Expires", j.Expires.UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return nil
}

func (e *exportAPI) cancel(w http.ResponseWriter, r *http.Request) error {
	if err := e.x.Cancel(r.Context(), r.URL.Query().Get("job")); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, informational("export job "+r.URL.Query().Get("job")+" cancelled; its files are removed"))
	return nil
}

func (e *exportAPI) file(w http.ResponseWriter, r *http.Request) error {
	fh, f, err := e.x.OpenFile(r.Context(), r.URL.Query().Get("job"), r.URL.Query().Get("file"))
	if err != nil {
		return err
	}
	defer fh.Close()
	var mod time.Time
	if st, err := fh.Stat(); err == nil {
		mod = st.ModTime()
	}
	w.Header().Set("Content-Type", "application/fhir+ndjson")
	w.Header().Set("ETag", `"`+f.SHA256+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Ranges let a client resume a large download.
	http.ServeContent(w, r, "", mod, fh)
	return nil
}
