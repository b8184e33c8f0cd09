package outcomes

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/custodian-him/custodian"
)

// namer reads patients' names for a list, once each, through the store
// (which authorizes and audits each read as the signed-in user).
type namer struct {
	src  Patients
	seen map[string]string
}

func newNamer(src Patients) *namer { return &namer{src: src, seen: map[string]string{}} }

// name is the patient's official (else first) name, "Family, Given", or a
// note saying why it is not shown.
func (n *namer) name(ctx context.Context, id string) string {
	if s, ok := n.seen[id]; ok {
		return s
	}
	s := n.read(ctx, id)
	n.seen[id] = s
	return s
}

func (n *namer) read(ctx context.Context, id string) string {
	if n.src == nil {
		return "(name not available)"
	}
	res, err := n.src.Read(ctx, "Patient", id)
	switch custodian.ErrorCode(err) {
	case "":
	case custodian.EFORBIDDEN:
		return "(restricted)"
	case custodian.ENOTFOUND, custodian.EGONE:
		return "(no Patient resource)"
	default:
		return "(name not available)"
	}
	var p struct {
		Name []struct {
			Use    string   `json:"use"`
			Text   string   `json:"text"`
			Family string   `json:"family"`
			Given  []string `json:"given"`
		} `json:"name"`
	}
	if json.Unmarshal(res.Body, &p) != nil || len(p.Name) == 0 {
		return "(no name)"
	}
	nm := p.Name[0]
	for _, x := range p.Name {
		if x.Use == "official" {
			nm = x
			break
		}
	}
	if nm.Family != "" || len(nm.Given) > 0 {
		s := nm.Family
		if len(nm.Given) > 0 {
			if s != "" {
				s += ", "
			}
			s += strings.Join(nm.Given, " ")
		}
		return s
	}
	if nm.Text != "" {
		return nm.Text
	}
	return "(no name)"
}
