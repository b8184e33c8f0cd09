package web

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// attachmentView is one content item of a document as the page shows it.
type attachmentView struct {
	N           int
	Title       string
	ContentType string
	// Text is the decoded content of a text attachment.
	Text string
	// Kind says how the page shows it: "text", "image", "pdf" or "file".
	Kind string
	Size int
}

type versionRow struct {
	Version          int64
	When             time.Time
	Author, Method   string
	Deleted, Current bool
	Summary          string
}

type documentData struct {
	Patient                           *patientHeader
	ID, Type, Date, Author, Status    string
	Authenticator, Encounter, Created string
	Attachments                       []attachmentView
	Versions                          []versionRow
}

// maxTextShown bounds the text of one attachment shown in the page.
const maxTextShown = 1 << 20

// readDocument reads a DocumentReference of the patient: one that belongs
// to another patient is not found here, so a path cannot mix two records.
func (h *Handler) readDocument(ctx context.Context, patient, id string) (*store.Resource, map[string]any, error) {
	if !store.ValidID(id) || !store.ValidID(patient) {
		return nil, nil, custodian.Errorf(custodian.ENOTFOUND, "There is no such document.")
	}
	res, err := h.Records.Read(ctx, "DocumentReference", id)
	if err != nil {
		return nil, nil, err
	}
	doc, err := store.Decode(res.Body)
	if err != nil {
		return nil, nil, err
	}
	if refID(get(doc, "subject"), "Patient") != patient {
		return nil, nil, custodian.Errorf(custodian.ENOTFOUND, "There is no such document in this patient's record.")
	}
	return res, doc, nil
}

// document shows a note: its details, its text, its images and PDFs in the
// page, and its versions.
func (h *Handler) document(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ph, err := h.readPatient(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	res, doc, err := h.readDocument(ctx, ph.ID, r.PathValue("doc"))
	if err != nil {
		return err
	}
	d := &documentData{Patient: ph, ID: res.ID, Type: concept(get(doc, "type")), Date: showDate(str(doc, "date")),
		Author: str(doc, "author", "0", "display"), Status: str(doc, "docStatus"), Authenticator: str(doc, "authenticator", "display"),
		Encounter: refID(get(doc, "context", "encounter", "0"), "Encounter"), Created: showDate(str(doc, "content", "0", "attachment", "creation"))}
	if d.Status == "" {
		d.Status = str(doc, "status")
	}
	for i, c := range list(doc, "content") {
		att := get(c, "attachment")
		av := attachmentView{N: i, Title: str(att, "title"), ContentType: str(att, "contentType")}
		av.Size, _ = strconv.Atoi(str(att, "size"))
		av.Kind = kindOf(av.ContentType)
		if av.Kind == "text" {
			b, err := h.attachmentBytes(ctx, att)
			if err != nil {
				return err
			}
			if b == nil { // kept outside the resource: offered as a link
				av.Kind = "file"
			}
			if len(b) > maxTextShown {
				b = b[:maxTextShown]
			}
			if !utf8.Valid(b) {
				b = []byte(strings.ToValidUTF8(string(b), "\uFFFD"))
			}
			av.Text = string(b)
		}
		d.Attachments = append(d.Attachments, av)
	}
	// The version read; the history of one resource is not read here: it
	// costs as much as the type has versions in the current SQL.
	d.Versions = []versionRow{{Version: res.VersionID, When: res.LastUpdated, Author: res.Author, Method: methodText(res.Method), Current: true}}
	title := d.Type
	if title == "" {
		title = "Document"
	}
	h.render(w, r, http.StatusOK, "document", &view{Title: title + " — " + ph.Name, Section: "/patients", Print: true, Data: d})
	return nil
}

// kindOf says how a content type is shown in the page.
func kindOf(ct string) string {
	ct = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	switch {
	case ct == "text/plain" || ct == "":
		return "text"
	case ct == "image/png" || ct == "image/jpeg" || ct == "image/gif" || ct == "image/webp":
		return "image"
	case ct == "application/pdf":
		return "pdf"
	}
	return "file"
}

// attachmentBytes returns an attachment's content: its data, or the data of
// the Binary its url names (read through the store like everything else).
func (h *Handler) attachmentBytes(ctx context.Context, att any) ([]byte, error) {
	data := str(att, "data")
	if data == "" {
		u := str(att, "url")
		id, ok := strings.CutPrefix(u, "Binary/")
		if !ok || !store.ValidID(id) {
			return nil, nil
		}
		res, err := h.Records.Read(ctx, "Binary", id)
		if err != nil {
			return nil, err
		}
		bin, err := store.Decode(res.Body)
		if err != nil {
			return nil, err
		}
		data = str(bin, "data")
		if data == "" {
			return nil, nil // the content is a blob, served by the FHIR API
		}
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, custodian.Wrap(custodian.EUNPROCESSABLE, err, "The document's content is not valid base64.")
	}
	return b, nil
}

// attachment serves one attachment of a document, for the page to show an
// image or a PDF in place. Only images, PDFs and plain text are shown
// inline; anything else is offered as a download, in a sandbox.
func (h *Handler) attachment(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	_, doc, err := h.readDocument(ctx, r.PathValue("id"), r.PathValue("doc"))
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	contents := list(doc, "content")
	if err != nil || n < 0 || n >= len(contents) {
		return custodian.Errorf(custodian.ENOTFOUND, "The document has no such attachment.")
	}
	att := get(contents[n], "attachment")
	// Content kept as a Binary (package fhirapi keeps large ones as blobs,
	// not in the resource) is served by the FHIR API's Binary read, which
	// authorizes and audits it like this page does.
	if id, ok := strings.CutPrefix(str(att, "url"), "Binary/"); ok && str(att, "data") == "" && store.ValidID(id) {
		http.Redirect(w, r, "/fhir/Binary/"+id, http.StatusSeeOther)
		return nil
	}
	b, err := h.attachmentBytes(ctx, att)
	if err != nil {
		return err
	}
	ct := str(att, "contentType")
	kind := kindOf(ct)
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	switch kind {
	case "text":
		hd.Set("Content-Type", "text/plain; charset=utf-8")
	case "image", "pdf":
		hd.Set("Content-Type", strings.ToLower(strings.Split(ct, ";")[0]))
	default:
		hd.Set("Content-Type", "application/octet-stream")
	}
	if kind == "file" {
		hd.Set("Content-Disposition", `attachment; filename="attachment-`+strconv.Itoa(n)+`"`)
		hd.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	} else {
		hd.Set("Content-Disposition", `inline; filename="attachment-`+strconv.Itoa(n)+`"`)
		// A PDF is drawn by the browser's own viewer, which a restrictive
		// policy would stop; images and text need nothing.
		csp := "default-src 'none'; frame-ancestors 'self'"
		if kind == "pdf" {
			csp = "frame-ancestors 'self'"
		}
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "SAMEORIGIN")
	}
	w.Write(b)
	return nil
}

func methodText(m store.Method) string {
	switch m {
	case store.MethodCreate:
		return "created"
	case store.MethodUpdate:
		return "updated"
	case store.MethodPatch:
		return "patched"
	case store.MethodDelete:
		return "deleted"
	}
	return string(m)
}

type historyData struct {
	Patient  *patientHeader
	Versions []versionRow
	More     bool
}

// history lists the versions of the patient's registration, newest first,
// each with its demographics, so a change can be traced to who made it.
func (h *Handler) history(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ph, err := h.readPatient(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	hist, err := h.Records.History(ctx, store.HistoryFilter{Type: "Patient", ID: ph.ID, Count: 100})
	if err != nil {
		return err
	}
	d := &historyData{Patient: ph, More: hist.Next != 0}
	for i, v := range hist.Versions {
		row := versionRow{Version: v.VersionID, When: v.LastUpdated, Author: v.Author, Method: methodText(v.Method), Deleted: v.Deleted, Current: i == 0}
		if p, err := store.Decode(v.Body); err == nil && !v.Deleted {
			var ids []string
			for _, id := range identifiers(p) {
				ids = append(ids, strings.TrimSpace(id.Type+" "+id.Value))
			}
			row.Summary = patientName(p) + " · born " + str(p, "birthDate") + " · " + str(p, "gender") + " · " + strings.Join(ids, ", ")
			if line := str(p, "address", "0", "line", "0"); line != "" {
				row.Summary += " · " + line + ", " + str(p, "address", "0", "city")
			}
			if a := get(p, "active"); a != nil && str(p, "active") == "false" {
				row.Summary += " · inactive"
			}
			for _, l := range list(p, "link") {
				row.Summary += " · " + str(l, "type") + " " + str(l, "other", "reference")
			}
		}
		d.Versions = append(d.Versions, row)
	}
	h.render(w, r, http.StatusOK, "history", &view{Title: "Version history — " + ph.Name, Section: "/patients", Print: true, Data: d})
	return nil
}
