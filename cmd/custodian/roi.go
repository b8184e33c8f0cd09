package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/blob"
	"github.com/custodian-him/custodian/roi"
)

// ROICommand runs release of information from the command line.
type ROICommand struct {
	Stdout, Stderr io.Writer
}

const roiUsage = `Usage: custodian roi SUBCOMMAND [--data DIR|--db URL] [options]

Release of information (requests for a patient's records) and the
accounting of disclosures.

  authorize --patient ID --recipient NAME --signed DATE --expires DATE
            [--types T,…] [--categories C,…] [--purposes P,…] [--from DATE] [--to DATE]
                         store a patient's authorization (a Consent)
  revoke CONSENT-ID      record the patient's revocation of an authorization
  request --patient ID --kind KIND --requester NAME --purpose CODE --types T,…
            [--address TEXT] [--purpose-text TEXT] [--basis B] [--authorization CONSENT-ID]
            [--legal-authority TEXT] [--identity-verified HOW] [--received DATE]
            [--from DATE] [--to DATE] [--categories C,…]
                         log a request (due in 30 days)
  list [--open] [--overdue] [--status S] [--patient ID] [--count N] [--cursor C] [--format text|json]
                         the queue, oldest due date first, with aging, a page at a time
                         (N requests, 50 by default; the next page's cursor is printed)
  mark-extended          once, after upgrading: mark requests extended by an older
                         version so the queue orders them by their due date
  review ID [--types T,…] [--from DATE] [--to DATE] [--categories C,…]
                         start work; optionally narrow the selection
  categories             print the site's sensitive categories as JSON (the defaults, or the
                         file CUSTODIAN_ROI_CATEGORIES names: a starting point for that file)
  check ID               say whether the request could be released now, and if not why
  extend ID --reason TEXT   take the one 30-day extension
  deny ID --reason TEXT | cancel ID --reason TEXT
  release ID --method M [--recipient NAME] [--out FILE.pdf] [--bundle FILE.json]
                         check, build, store and deliver the packet
  regenerate ID [--out FILE.pdf]
                         rebuild the packet and check it matches the stored hash
  accounting --patient ID [--from DATE] [--to DATE] [--format text|json]
            [--break-glass] [--export-recipient CLIENT=NAME: PURPOSE]…
                         the accounting of disclosures (45 CFR 164.528), six years at most

Kinds: patient, personal-representative, attorney, insurer, provider, agency, court-order.
Purposes (v3 PurposeOfUse): TREAT HPAYMT HOPERAT PATRQT FAMRQT PWATRNY HLEGAL COVERAGE PUBHLTH HRESCH HSYSADMN LEGAL.
Record types: DocumentReference Observation DiagnosticReport Condition Encounter MedicationRequest
Procedure AllergyIntolerance Immunization. Categories: substance-use psychotherapy-notes mental-health
hiv genetic reproductive-health domestic-violence restricted, or those of the JSON file
CUSTODIAN_ROI_CATEGORIES names (also used by deid export --exclude-sensitive). Dates are YYYY-MM-DD.
`

// siteCategories reads the site's sensitive categories from the JSON file
// CUSTODIAN_ROI_CATEGORIES names; nil (the defaults) when it is not set.
func siteCategories() ([]roi.Category, error) {
	path := os.Getenv("CUSTODIAN_ROI_CATEGORIES")
	if path == "" {
		return nil, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, custodian.Wrap(custodian.EINVALID, err, "CUSTODIAN_ROI_CATEGORIES")
	}
	defer fh.Close()
	cats, err := roi.ReadCategories(fh)
	if err != nil {
		return nil, custodian.Wrap(custodian.EINVALID, err, "CUSTODIAN_ROI_CATEGORIES %s", path)
	}
	return cats, nil
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// Run implements "custodian roi".
func (c *ROICommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.Stderr, roiUsage)
		return flag.ErrHelp
	}
	sub := args[0]
	fs := flag.NewFlagSet("roi "+sub, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() { fmt.Fprint(c.Stderr, roiUsage); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	f := struct {
		patient, recipient, signed, expires, types, categories, purposes, from, to     *string
		kind, requester, address, purpose, purposeText, basis, authorization, received *string
		legal, identity, status, format, reason, method, out, bundle                   *string
		open, breakGlass, overdue                                                      *bool
		count                                                                          *int
		cursor                                                                         *string
		exportRecipients                                                               listFlag
	}{
		patient: fs.String("patient", "", "patient id"), recipient: fs.String("recipient", "", "who receives the records"),
		signed: fs.String("signed", "", "date the authorization was signed"), expires: fs.String("expires", "", "date the authorization expires"),
		types: fs.String("types", "", "record types, comma-separated"), categories: fs.String("categories", "", "sensitive categories, comma-separated"),
		purposes: fs.String("purposes", "", "purposes of use the authorization covers, comma-separated"),
		from:     fs.String("from", "", "first date"), to: fs.String("to", "", "last date"),
		kind: fs.String("kind", "", "requester kind"), requester: fs.String("requester", "", "requester's name"),
		address: fs.String("address", "", "requester's address"), purpose: fs.String("purpose", "", "purpose of use code"),
		purposeText: fs.String("purpose-text", "", "the purpose in words"), basis: fs.String("basis", "", "legal basis (default from kind and purpose)"),
		authorization: fs.String("authorization", "", "Consent id of the authorization"), received: fs.String("received", "", "date received (default today)"),
		legal: fs.String("legal-authority", "", "court order or law"), identity: fs.String("identity-verified", "", "how the patient's identity was verified"),
		status: fs.String("status", "", "requested, in-review, fulfilled, denied or cancelled"), format: fs.String("format", "text", "text or json"),
		reason: fs.String("reason", "", "reason"), method: fs.String("method", "", "delivery method: mail, email, portal, fax, pickup, secure-link"),
		out: fs.String("out", "", "write the PDF here"), bundle: fs.String("bundle", "", "write the FHIR Bundle here"),
		open: fs.Bool("open", false, "only open requests"), breakGlass: fs.Bool("break-glass", false, "list break-the-glass access too"),
		overdue: fs.Bool("overdue", false, "only open requests past their due date"),
		count:   fs.Int("count", 50, "requests per page"), cursor: fs.String("cursor", "", "continue from a previous page"),
	}
	fs.Var(&f.exportRecipients, "export-recipient", "CLIENT=NAME: PURPOSE: Bulk Data exports by this API client are disclosures (repeatable)")
	rest := args[1:]
	var id string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		id, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	needID := map[string]bool{"check": true, "revoke": true, "review": true, "extend": true, "deny": true, "cancel": true, "release": true, "regenerate": true}
	if needID[sub] && id == "" {
		return custodian.Errorf(custodian.EINVALID, "roi %s: give the id", sub)
	}
	if *f.format != "text" && *f.format != "json" {
		return custodian.Errorf(custodian.EINVALID, "roi: --format must be text or json")
	}
	var dates [5]time.Time
	for i, v := range []*string{f.signed, f.expires, f.from, f.to, f.received} {
		if *v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, *v)
		if err != nil {
			return custodian.Errorf(custodian.EINVALID, "roi %s: %q is not a date (YYYY-MM-DD)", sub, *v)
		}
		dates[i] = t
	}
	signed, expires, from, to, received := dates[0], dates[1], dates[2], dates[3], dates[4]
	a, err := openApp(ctx, *sf.data, *sf.url, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer a.Close()
	blobs, err := blob.Open(filepath.Join(*sf.data, "blobs"))
	if err != nil {
		return err
	}
	cats, err := siteCategories()
	if err != nil {
		return err
	}
	svc := &roi.Service{Store: a.store, Blobs: blobs, Organization: os.Getenv("CUSTODIAN_ORGANIZATION"), Categories: cats}
	svc.Disclosures.BreakGlass = *f.breakGlass
	for _, x := range f.exportRecipients {
		client, who, ok := strings.Cut(x, "=")
		if !ok || client == "" || who == "" {
			return custodian.Errorf(custodian.EINVALID, "roi accounting: --export-recipient takes CLIENT=NAME: PURPOSE")
		}
		if svc.Disclosures.ExportRecipients == nil {
			svc.Disclosures.ExportRecipients = map[string]string{}
		}
		svc.Disclosures.ExportRecipients[client] = who
	}
	ctx = withCLI(ctx)
	switch sub {
	case "authorize":
		au, err := svc.Authorize(ctx, &roi.Authorization{Patient: *f.patient, Recipient: *f.recipient, Signed: signed, Expires: expires,
			From: from, To: to, Types: split(*f.types), Categories: split(*f.categories), Purposes: split(*f.purposes)})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "authorization Consent/%s stored: %s may receive records of Patient/%s until %s\n", au.ID, au.Recipient, au.Patient, au.Expires.Format(time.DateOnly))
		return nil
	case "revoke":
		au, err := svc.Revoke(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "authorization Consent/%s revoked\n", au.ID)
		return nil
	case "request":
		if received.IsZero() {
			received = time.Now().UTC().Truncate(24 * time.Hour)
		}
		r, err := svc.Submit(ctx, &roi.Request{Patient: *f.patient, RequesterKind: roi.RequesterKind(*f.kind), RequesterName: *f.requester,
			RequesterAddress: *f.address, Purpose: *f.purpose, PurposeText: *f.purposeText, Basis: roi.Basis(*f.basis),
			Authorization: *f.authorization, LegalAuthority: *f.legal, IdentityVerified: *f.identity, Received: received,
			From: from, To: to, Types: split(*f.types), Categories: split(*f.categories)})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "request %s logged as Task/%s, due %s\n", r.Number, r.ID, r.Due.Format(time.DateOnly))
		return nil
	case "list":
		p, err := svc.Page(ctx, roi.PageQuery{Filter: roi.Filter{Status: roi.Status(*f.status), Open: *f.open, Patient: *f.patient},
			Overdue: *f.overdue, Count: *f.count, Cursor: *f.cursor, Total: true})
		if err != nil {
			return err
		}
		if err := c.printList(p.Requests, *f.format); err != nil {
			return err
		}
		if *f.format != "json" {
			fmt.Fprintf(c.Stdout, "%d of %d request(s)", len(p.Requests), p.Total)
			if p.Next != "" {
				fmt.Fprintf(c.Stdout, "; next page: --cursor %s", p.Next)
			}
			fmt.Fprintln(c.Stdout)
		} else if p.Next != "" {
			fmt.Fprintf(c.Stderr, "next page: --cursor %s\n", p.Next)
		}
		return nil
	case "categories":
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		if cats == nil {
			cats = roi.DefaultCategories()
		}
		return enc.Encode(cats)
	case "check":
		if err := svc.Check(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "request Task/%s can be released as selected\n", id)
		return nil
	case "mark-extended":
		n, err := svc.MarkExtended(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%d extended request(s) marked for the queue's due-date order\n", n)
		return nil
	case "review":
		var sel *roi.Selection
		if *f.types != "" || *f.categories != "" || !from.IsZero() || !to.IsZero() {
			sel = &roi.Selection{From: from, To: to, Types: split(*f.types), Categories: split(*f.categories)}
		}
		return c.moved(svc.Review(ctx, id, sel))
	case "extend":
		return c.moved(svc.Extend(ctx, id, *f.reason))
	case "deny":
		return c.moved(svc.Deny(ctx, id, *f.reason))
	case "cancel":
		return c.moved(svc.Cancel(ctx, id, *f.reason))
	case "release":
		r, p, err := svc.Release(ctx, id, roi.Delivery{Method: *f.method, Recipient: *f.recipient})
		if err != nil {
			return err
		}
		if err := writeFiles(*f.out, p.PDF, *f.bundle, p.Bundle); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "request %s released to %s by %s: %d pages, %d records (DocumentReference/%s, sha256 %s)\n",
			r.Number, r.Release.Delivery.Recipient, r.Release.Delivery.Method, p.Pages, len(p.Items), r.Release.DocumentReference, p.SHA256)
		for _, reason := range slices.Sorted(maps.Keys(r.Release.Excluded)) {
			fmt.Fprintf(c.Stdout, "  left out: %d %s\n", r.Release.Excluded[reason], reason)
		}
		return nil
	case "regenerate":
		p, ok, err := svc.Regenerate(ctx, id)
		if err != nil {
			return err
		}
		if err := writeFiles(*f.out, p.PDF, *f.bundle, p.Bundle); err != nil {
			return err
		}
		if !ok {
			return custodian.Errorf(custodian.ECONFLICT, "the regenerated packet (sha256 %s) does not match the one released", p.SHA256)
		}
		fmt.Fprintf(c.Stdout, "packet regenerated: %d pages, sha256 %s matches the one released\n", p.Pages, p.SHA256)
		return nil
	case "accounting":
		if *f.patient == "" {
			return custodian.Errorf(custodian.EINVALID, "roi accounting: --patient is required")
		}
		acc, err := svc.Accounting(ctx, *f.patient, from, to)
		if err != nil {
			return err
		}
		return c.printAccounting(acc, *f.format)
	}
	fmt.Fprint(c.Stderr, roiUsage)
	return custodian.Errorf(custodian.EINVALID, "roi: unknown subcommand %q", sub)
}

func split(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func writeFiles(pdfPath string, pdf []byte, bundlePath string, bundle []byte) error {
	if pdfPath != "" {
		if err := os.WriteFile(pdfPath, pdf, 0o600); err != nil {
			return err
		}
	}
	if bundlePath != "" {
		return os.WriteFile(bundlePath, bundle, 0o600)
	}
	return nil
}

func (c *ROICommand) moved(r *roi.Request, err error) error {
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "request %s is %s, due %s\n", r.Number, r.Status, r.Due.Format(time.DateOnly))
	return nil
}

func (c *ROICommand) printList(rs []*roi.Request, format string) error {
	now := time.Now()
	if format == "json" {
		type row struct {
			*roi.Request
			AgeDays  int  `json:"ageDays"`
			DaysLeft int  `json:"daysLeft"`
			Overdue  bool `json:"overdue"`
		}
		out := make([]row, len(rs))
		for i, r := range rs {
			out[i] = row{r, r.Age(now), r.DaysLeft(now), r.Overdue(now)}
		}
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(c.Stdout, "%-22s %-10s %-24s %-28s %-10s %5s %5s\n", "request", "status", "requester kind", "requester", "due", "age", "left")
	for _, r := range rs {
		mark := ""
		if r.Overdue(now) {
			mark = "  OVERDUE"
		}
		fmt.Fprintf(c.Stdout, "%-22s %-10s %-24s %-28.28s %-10s %5d %5d%s\n", r.Number, r.Status, r.RequesterKind, r.RequesterName,
			r.Due.Format(time.DateOnly), r.Age(now), r.DaysLeft(now), mark)
	}
	return nil
}

func (c *ROICommand) printAccounting(acc *roi.Accounting, format string) error {
	if format == "json" {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(acc)
	}
	fmt.Fprintf(c.Stdout, "Accounting of disclosures for Patient/%s, %s to %s\n\n", acc.Patient, acc.From.Format(time.DateOnly), acc.To.Format(time.DateOnly))
	if len(acc.Disclosures) == 0 {
		fmt.Fprintln(c.Stdout, "No disclosures that must be accounted for.")
	}
	for _, d := range acc.Disclosures {
		fmt.Fprintf(c.Stdout, "%s  %s\n  to:   %s\n  what: %s\n  why:  %s\n  ref:  %s\n\n", d.Date.Format(time.DateOnly), d.Source, d.Recipient, d.What, d.Why, d.Ref)
	}
	if len(acc.Excluded) > 0 {
		fmt.Fprintln(c.Stdout, "Not listed, as 45 CFR 164.528(a)(1) excludes them:")
		for _, why := range slices.Sorted(maps.Keys(acc.Excluded)) {
			fmt.Fprintf(c.Stdout, "  %d release(s): %s\n", acc.Excluded[why], why)
		}
	}
	return nil
}
