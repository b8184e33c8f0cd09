package ccda

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"

	"github.com/custodian-him/custodian"
)

const nsCDA = "urn:hl7-org:v3"

// node is an XML element: its local name, namespace, attributes by local
// name, children and text.
type node struct {
	Name, Space string
	Attr        map[string]string
	Kids        []*node
	Text        string
}

// MaxDocument is the largest document Parse reads, in bytes.
const MaxDocument = 64 << 20

// parseXML reads a document into a tree. Undeclared prefixes (common in
// hand-written C-CDA) are tolerated: the decoder is not strict about them.
func parseXML(data []byte) (*node, error) {
	if len(data) > MaxDocument {
		return nil, custodian.Errorf(custodian.ETOOLARGE, "ccda: the document is larger than %d MiB", MaxDocument>>20)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "us-ascii") {
			return r, nil
		}
		return nil, custodian.Errorf(custodian.EINVALID, "ccda: encoding %q is not supported; C-CDA is UTF-8", label)
	}
	var root *node
	var stack []*node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, custodian.Wrap(custodian.EINVALID, err, "ccda: the document is not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{Name: t.Name.Local, Space: t.Name.Space, Attr: map[string]string{}}
			for _, a := range t.Attr {
				n.Attr[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, custodian.Errorf(custodian.EINVALID, "ccda: more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Kids = append(p.Kids, n)
			}
			stack = append(stack, n)
			if len(stack) > 200 {
				return nil, custodian.Errorf(custodian.EINVALID, "ccda: elements nested more than 200 deep")
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		}
	}
	if root == nil {
		return nil, custodian.Errorf(custodian.EINVALID, "ccda: the document is empty")
	}
	return root, nil
}

// kid returns the first child named name in the CDA namespace (or none).
func (n *node) kid(name string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.Kids {
		if k.Name == name && (k.Space == nsCDA || k.Space == "") {
			return k
		}
	}
	return nil
}

// all returns the children named name.
func (n *node) all(name string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, k := range n.Kids {
		if k.Name == name && (k.Space == nsCDA || k.Space == "") {
			out = append(out, k)
		}
	}
	return out
}

// at follows a path of child names: "patientRole/patient/name".
func (n *node) at(path string) *node {
	for _, p := range strings.Split(path, "/") {
		n = n.kid(p)
	}
	return n
}

func (n *node) attr(name string) string {
	if n == nil {
		return ""
	}
	return n.Attr[name]
}

func (n *node) text() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.Text)
}

// hasTemplate reports whether n declares the template root oid.
func (n *node) hasTemplate(oid string) bool {
	for _, t := range n.all("templateId") {
		if t.attr("root") == oid {
			return true
		}
	}
	return false
}

// walk calls fn on n and every element below it, depth first.
func (n *node) walk(fn func(*node) bool) {
	if n == nil || !fn(n) {
		return
	}
	for _, k := range n.Kids {
		k.walk(fn)
	}
}

// relations returns the elements inside n's entryRelationship and
// component children (observation, act, …).
func (n *node) related() []*node {
	var out []*node
	for _, k := range n.Kids {
		if k.Name != "entryRelationship" && k.Name != "component" {
			continue
		}
		for _, x := range k.Kids {
			if x.Name != "templateId" {
				out = append(out, x)
			}
		}
	}
	return out
}
