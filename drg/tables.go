package drg

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
)

//go:embed data/*.tsv.gz
var dataFS embed.FS

// Version is an MS-DRG grouper version and the discharge dates it covers.
type Version struct {
	Name     string    // "v43.1"
	file     string    // "v431"
	From, To time.Time // first and last discharge date (inclusive)
}

func day(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }

// versions lists the embedded versions, oldest first.
var versions = [...]Version{
	{"v41.0", "v410", day("2023-10-01"), day("2024-09-30")},
	{"v42.0", "v420", day("2024-10-01"), day("2025-09-30")},
	{"v43.0", "v430", day("2025-10-01"), day("2026-03-31")},
	{"v43.1", "v431", day("2026-04-01"), day("2026-09-30")},
}

// CurrentVersion is the newest embedded version, used when neither a version
// nor a discharge date is given.
const CurrentVersion = "v43.1"

// Versions lists the embedded versions, oldest first.
func Versions() []Version { return append([]Version(nil), versions[:]...) }

// LookupVersion finds a version by name: "v43.1", "43.1" or "431".
func LookupVersion(name string) (Version, error) {
	n := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), "v")
	for _, v := range versions {
		if n == v.Name[1:] || n == v.file[1:] || n == strings.TrimSuffix(v.Name[1:], ".0") {
			return v, nil
		}
	}
	names := make([]string, len(versions))
	for i, v := range versions {
		names[i] = v.Name
	}
	return Version{}, custodian.Errorf(custodian.EINVALID, "unknown MS-DRG version %q (known: %s)", name, strings.Join(names, ", "))
}

// VersionFor returns the version in effect on a discharge date.
func VersionFor(discharge time.Time) (Version, error) {
	d := time.Date(discharge.Year(), discharge.Month(), discharge.Day(), 0, 0, 0, 0, time.UTC)
	for _, v := range versions {
		if !d.Before(v.From) && !d.After(v.To) {
			return v, nil
		}
	}
	return Version{}, custodian.Errorf(custodian.EINVALID, "no embedded MS-DRG version covers discharge date %s (covered: %s to %s); name one with --version",
		d.Format(time.DateOnly), versions[0].From.Format(time.DateOnly), versions[len(versions)-1].To.Format(time.DateOnly))
}

// maxAttrs bounds the number of distinct attribute names per version, so a
// claim's attribute sets are fixed-size arrays.
const maxAttrs = 16 * 64

type bits [16]uint64

func (b *bits) set(i uint16)      { b[i>>6] |= 1 << (i & 63) }
func (b *bits) has(i uint16) bool { return b[i>>6]&(1<<(i&63)) != 0 }

// Severity is a secondary diagnosis's (or a claim's) complication level.
type Severity uint8

// Severities, in increasing order.
const (
	NonCC Severity = iota
	CC
	MCC
)

func (s Severity) String() string {
	switch s {
	case CC:
		return "CC"
	case MCC:
		return "MCC"
	}
	return "NON_CC"
}

// dxFlag marks facts about a diagnosis code the logic looks at directly.
type dxFlag uint16

const (
	fEcode    dxFlag = 1 << iota // an external cause code: not a principal diagnosis
	fMCCAlive                    // an MCC only for patients discharged alive
	fIncident                    // on the newborn "incidental" list
	fHAC6Show                    // on the CAUTI "show" list
	fSexMDC                      // its MDC depends on the patient's sex
	fHAC11PDX                    // a bariatric principal diagnosis for HAC 11
)

type dxInfo struct {
	code       string
	mdc        int8
	maleMDC    int8 // -1 if none
	femaleMDC  int8
	sev        Severity
	flags      dxFlag
	sigTrauma  uint8  // bit per significant-trauma body site
	hacs       uint16 // bit n: on the list of HAC n
	excl       int32  // CC-exclusion collection id, -1 if none
	attrs      []uint16
	severAttrs []uint16 // dx_attributes only (what formula severity suppression tests)
}

// prFlag marks procedure facts that are counted across a claim.
type prInfo struct {
	code   string
	attrs  []uint16
	hacs   uint16 // bit n: a procedure of HAC n
	bilat  uint8  // bit per joint site
	vessel uint8
	stent  uint8
	flags  uint8 // prDrugStent, prStent, fusion kinds
}

const (
	prDrugStent = 1 << iota
	prStent
	prSglAntFuse
	prSglPostFuse1
	prSglAntSectX
	prSglPostFuse
)

type formula struct {
	mdc, rank     int
	baseDRG, drg  int
	surgical      string
	reroute       int
	drgSeverity   int
	suppression   []string
	supp          int // index into table.supps
	text          string
	root          int32
	nodes         []node
	returnCode    ReturnCode // for DRG-0 formulas naming a return code
	returnFormula bool
}

type hacDef struct {
	number      int
	description string
	text        string
	nodes       []node
	root        int32
}

// table is one version's tables, ready for grouping.
type table struct {
	version  Version
	attrIDs  map[string]uint16
	attrName []string
	dxIdx    *codeIndex
	dxs      []dxInfo
	prIdx    *codeIndex
	prs      []prInfo
	mdcs     [30][]*formula
	supps    [][]uint16 // suppression attribute lists; 0 is the empty list
	drgDesc  map[int]string
	drgMS    map[int]string
	mdcDesc  map[int]string
	hacs     [15]*hacDef
	excl     map[int32][]int32 // collection → sorted principal dx indexes
	dstat    []dstatRange
	special  specials
}

type dstatRange struct {
	code     int
	from, to time.Time
}

// specials are the ids of the claim-level facts formulas test.
type specials struct {
	alive, died, ama, xfrnba, invalidDstat, invalidPDX, pdxEcode, invalidSex,
	onlyIncident, mdc20, multst, bilateral, fourVessels, fourStents,
	fourDrug, fourNonDrug, multFuse, sglAntSectX, sglPostFuse, singleFusion,
	sglAnt, sglPost1, orproc, anydx uint16
	sigTrauma [8]uint16
}

var (
	tablesMu sync.Mutex
	tables   = map[string]*table{}
	exclOnce sync.Once
	exclRaw  map[int32][]string
	exclErr  error
)

// loadTable returns the tables of v, reading them on first use.
func loadTable(v Version) (*table, error) {
	tablesMu.Lock()
	defer tablesMu.Unlock()
	if t := tables[v.file]; t != nil {
		return t, nil
	}
	exclOnce.Do(func() { exclRaw, exclErr = readExclusions() })
	if exclErr != nil {
		return nil, exclErr
	}
	raw, err := readGz("data/" + v.file + ".tsv.gz")
	if err != nil {
		return nil, err
	}
	t, err := parseTable(v, raw, exclRaw)
	if err != nil {
		return nil, custodian.Wrap(custodian.EINTERNAL, err, "the embedded MS-DRG tables cannot be read")
	}
	tables[v.file] = t
	return t, nil
}

func readGz(name string) ([]byte, error) {
	f, err := dataFS.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(z)
}

func readExclusions() (map[int32][]string, error) {
	raw, err := readGz("data/cc_exclusions.tsv.gz")
	if err != nil {
		return nil, err
	}
	out := map[int32][]string{}
	for line := range bytes.SplitSeq(raw, []byte{'\n'}) {
		id, codes, ok := strings.Cut(string(line), "\t")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(id)
		if err != nil {
			return nil, fmt.Errorf("cc exclusions: bad id %q", id)
		}
		out[int32(n)] = strings.Split(codes, "|")
	}
	return out, nil
}

func (t *table) attr(name string) uint16 {
	if id, ok := t.attrIDs[name]; ok {
		return id
	}
	id := uint16(len(t.attrName))
	t.attrIDs[name] = id
	t.attrName = append(t.attrName, name)
	return id
}

func (t *table) attrList(cache map[string][]uint16, lists ...string) []uint16 {
	key := strings.Join(lists, "\x00")
	if l, ok := cache[key]; ok {
		return l
	}
	var l []uint16
	for _, s := range lists {
		if s == "" {
			continue
		}
		for a := range strings.SplitSeq(s, "|") {
			l = append(l, t.attr(a))
		}
	}
	cache[key] = l
	return l
}

var sigTraumaSites = [8]string{"sthead", "stchest", "stabdom", "stkidney", "sturin", "stpel", "stuplimb", "stlolimb"}
var bilateralSites = map[string]uint8{"righthip": 1, "lefthip": 2, "leftknee": 4, "rightknee": 8, "leftankle": 16, "rightankle": 32}

func parseTable(v Version, raw []byte, excl map[int32][]string) (*table, error) {
	t := &table{version: v, attrIDs: map[string]uint16{},
		dxIdx: newCodeIndex(bytes.Count(raw, []byte("\nD\t")) + 1), prIdx: newCodeIndex(bytes.Count(raw, []byte("\nP\t")) + 1),
		drgDesc: map[int]string{}, drgMS: map[int]string{}, mdcDesc: map[int]string{}, excl: map[int32][]int32{}}
	sp := &t.special
	for i, s := range sigTraumaSites {
		sp.sigTrauma[i] = t.attr(s)
	}
	for _, p := range []struct {
		id   *uint16
		name string
	}{{&sp.alive, "ALIVE"}, {&sp.died, "DIED"}, {&sp.ama, "AMA"}, {&sp.xfrnba, "XFRNBA"},
		{&sp.invalidDstat, "INVALID_DSTAT"}, {&sp.invalidPDX, "INVALID_PDX"}, {&sp.pdxEcode, "PDX_ECODE"},
		{&sp.invalidSex, "INVALID_SEX"}, {&sp.onlyIncident, "ONLY:incident"}, {&sp.mdc20, "MDC_20_FALL_THRU"},
		{&sp.multst, "MULTST"}, {&sp.bilateral, "BILATERAL"}, {&sp.fourVessels, "FOUR_VESSELS"},
		{&sp.fourStents, "FOUR_STENTS"}, {&sp.fourDrug, "FOUR_DRUG_ELUTING_STENTS"},
		{&sp.fourNonDrug, "FOUR_NON_DRUG_ELUTING_STENTS"}, {&sp.multFuse, "MULTFUSE"},
		{&sp.sglAntSectX, "SGLANTSECTXCTR"}, {&sp.sglPostFuse, "SGLPOSTFUSECTR"},
		{&sp.singleFusion, "SINGLEFUSIONCTR"}, {&sp.sglAnt, "SGLANTCTR"}, {&sp.sglPost1, "SGLPOST1CTR"},
		{&sp.orproc, "ORPROC"}, {&sp.anydx, "ANYDX"}} {
		*p.id = t.attr(p.name)
	}
	t.supps = [][]uint16{nil}
	suppIdx := map[string]int{"": 0}
	cache := map[string][]uint16{}
	sevCache := map[string][]uint16{}
	var forms []*formula
	var hacLines [][]string
	t.dxs = make([]dxInfo, 0, len(t.dxIdx.keys)/2)
	t.prs = make([]prInfo, 0, len(t.prIdx.keys)/2)
	// One string for the whole file: codes and texts are substrings of it.
	text := string(raw)
	var fields [10]string
	for line := range strings.SplitSeq(text, "\n") {
		if len(line) == 0 {
			continue
		}
		n := splitTab(line, fields[:])
		f := fields[:n]
		need := 0
		switch f[0] {
		case "F":
			need = 10
		case "D":
			need = 9
		case "P", "H", "S":
			need = 4
		case "N", "M":
			need = 3
		}
		if need == 0 || n != need {
			return nil, fmt.Errorf("%s: bad line %q", v.file, line)
		}
		switch f[0] {
		case "F":
			fm := &formula{surgical: f[5], text: f[9]}
			var err error
			for i, p := range []*int{&fm.mdc, &fm.rank, &fm.baseDRG, &fm.drg, nil, &fm.reroute, &fm.drgSeverity} {
				if p == nil {
					continue
				}
				if *p, err = strconv.Atoi(f[1+i]); err != nil {
					return nil, fmt.Errorf("%s: formula %q: %v", v.file, line, err)
				}
			}
			if fm.mdc < 0 || fm.mdc >= len(t.mdcs) || fm.reroute < 0 || fm.reroute >= len(t.mdcs) {
				return nil, fmt.Errorf("%s: formula MDC out of range: %q", v.file, line)
			}
			if f[8] != "" {
				fm.suppression = strings.Split(f[8], "|")
			}
			n, ok := suppIdx[f[8]]
			if !ok {
				n = len(t.supps)
				suppIdx[f[8]] = n
				t.supps = append(t.supps, t.attrList(cache, f[8]))
			}
			fm.supp = n
			forms = append(forms, fm)
		case "D":
			d := dxInfo{code: f[1], maleMDC: -1, femaleMDC: -1, excl: -1}
			m, err := strconv.Atoi(f[2])
			if err != nil {
				return nil, fmt.Errorf("%s: dx %s: bad MDC %q", v.file, f[1], f[2])
			}
			d.mdc = int8(m)
			switch f[3] {
			case "MCC":
				d.sev = MCC
			case "CC":
				d.sev = CC
			}
			d.attrs = t.attrList(cache, f[4], f[5], f[6])
			d.severAttrs = t.attrList(sevCache, f[4])
			for a := range strings.SplitSeq(f[4]+"|"+f[5]+"|"+f[6], "|") {
				switch a {
				case "ecode":
					d.flags |= fEcode
				case "mccalive":
					d.flags |= fMCCAlive
				case "incident":
					d.flags |= fIncident
				case "hac06_show":
					d.flags |= fHAC6Show
				case "hac11_pdx":
					d.flags |= fHAC11PDX
				}
				for i, s := range sigTraumaSites {
					if a == s {
						d.sigTrauma |= 1 << i
					}
				}
				if n, ok := hacNumber(a); ok {
					d.hacs |= 1 << n
				}
			}
			if f[7] != "" {
				n, err := strconv.Atoi(f[7])
				if err != nil {
					return nil, fmt.Errorf("%s: dx %s: bad exclusion id %q", v.file, f[1], f[7])
				}
				d.excl = int32(n)
			}
			if f[8] != "" {
				d.flags |= fSexMDC
				for g := range strings.SplitSeq(f[8], "|") {
					sex, mdc, _ := strings.Cut(g, ":")
					n, err := strconv.Atoi(mdc)
					if err != nil {
						return nil, fmt.Errorf("%s: dx %s: bad sex MDC %q", v.file, f[1], g)
					}
					switch sex {
					case "1":
						d.maleMDC = int8(n)
					case "2":
						d.femaleMDC = int8(n)
					}
				}
			}
			if !t.dxIdx.put(d.code, int32(len(t.dxs))) {
				return nil, fmt.Errorf("%s: diagnosis code %q is not 1 to 7 letters and digits", v.file, d.code)
			}
			t.dxs = append(t.dxs, d)
		case "P":
			p := prInfo{code: f[1], attrs: t.attrList(cache, f[2], f[3])}
			var stent uint8
			for a := range strings.SplitSeq(f[2]+"|"+f[3], "|") {
				p.bilat |= bilateralSites[a]
				if n, ok := strings.CutPrefix(a, "vessel"); ok && len(n) == 1 && n[0] >= '1' && n[0] <= '9' {
					p.vessel += n[0] - '0'
				}
				if n, ok := strings.CutPrefix(a, "stent"); ok && len(n) == 1 && n[0] >= '1' && n[0] <= '4' {
					stent = n[0] - '0'
				}
				switch a {
				case "NORdrugstent":
					p.flags |= prDrugStent
				case "NORstent":
					p.flags |= prStent
				case "sglantfuse":
					p.flags |= prSglAntFuse
				case "sglpostfuse1":
					p.flags |= prSglPostFuse1
				case "sglantsectXfuse":
					p.flags |= prSglAntSectX
				case "sglpostfuse":
					p.flags |= prSglPostFuse
				case "d468", "d477":
					if !containsAttr(p.attrs, t.special.orproc) {
						p.attrs = append(append([]uint16(nil), p.attrs...), t.special.orproc)
					}
				}
				if len(a) > 3 && a[:3] == "hac" && strings.HasSuffix(a, "_proc") {
					if n, err := strconv.Atoi(a[3:5]); err == nil && n < 16 {
						p.hacs |= 1 << n
					}
				}
			}
			p.stent = stent
			if !t.prIdx.put(p.code, int32(len(t.prs))) {
				return nil, fmt.Errorf("%s: procedure code %q is not 1 to 7 letters and digits", v.file, p.code)
			}
			t.prs = append(t.prs, p)
		case "N":
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("%s: bad DRG %q", v.file, f[1])
			}
			t.drgDesc[n] = f[2]
		case "M":
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("%s: bad MDC %q", v.file, f[1])
			}
			t.mdcDesc[n] = f[2]
		case "H":
			hacLines = append(hacLines, append([]string(nil), f...))
		case "S":
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("%s: bad discharge status %q", v.file, f[1])
			}
			t.dstat = append(t.dstat, dstatRange{n, day(f[2]), day(f[3])})
		}
	}
	for _, fm := range forms {
		nodes, root, err := compile(fm.text, t)
		if err != nil {
			return nil, fmt.Errorf("%s: MDC %d rank %d: %v", v.file, fm.mdc, fm.rank, err)
		}
		fm.nodes, fm.root = nodes, root
		if fm.drg == 0 && fm.reroute == 0 {
			fm.returnFormula = true
			fm.returnCode = formulaReturnCode(fm.text)
		}
		t.mdcs[fm.mdc] = append(t.mdcs[fm.mdc], fm)
		if fm.drg != 0 {
			t.drgMS[fm.drg] = fm.surgical
		}
	}
	if len(t.mdcs[29]) == 0 {
		// The tables reroute to MDC 29 ("unrelated operating room
		// procedures") but hold no formulas for it: CMS's grouper assigns
		// DRGs 981–983 when an extensive OR procedure (attribute d468) is
		// unrelated to the principal diagnosis, 987–989 for a non-extensive
		// one (d477), each split by MCC, CC, neither.
		for i, u := range []struct {
			base, drg int
			text      string
		}{
			{981, 981, "d468 & MCC"}, {981, 982, "d468 & CC"}, {981, 983, "d468"},
			{987, 987, "d477 & MCC"}, {987, 988, "d477 & CC"}, {987, 989, "d477"},
		} {
			fm := &formula{mdc: 29, rank: i + 1, baseDRG: u.base, drg: u.drg, surgical: "SURGICAL", text: u.text}
			nodes, root, err := compile(u.text, t)
			if err != nil {
				return nil, err
			}
			fm.nodes, fm.root = nodes, root
			t.mdcs[29] = append(t.mdcs[29], fm)
			t.drgMS[fm.drg] = fm.surgical
		}
	}
	for m := range t.mdcs {
		sort.SliceStable(t.mdcs[m], func(i, j int) bool { return t.mdcs[m][i].rank < t.mdcs[m][j].rank })
	}
	for _, f := range hacLines {
		n, err := strconv.Atoi(f[1])
		if err != nil || n < 1 || n >= len(t.hacs) {
			return nil, fmt.Errorf("%s: bad HAC number %q", v.file, f[1])
		}
		nodes, root, err := compile(f[3], t)
		if err != nil {
			return nil, fmt.Errorf("%s: HAC %d: %v", v.file, n, err)
		}
		t.hacs[n] = &hacDef{number: n, description: f[2], text: f[3], nodes: nodes, root: root}
	}
	for id, codes := range excl {
		var l []int32
		for _, c := range codes {
			if i, ok := t.dxIdx.get(c); ok {
				l = append(l, i)
			}
		}
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		t.excl[id] = l
	}
	if len(t.attrName) > maxAttrs {
		return nil, fmt.Errorf("%s: %d attribute names, more than %d", v.file, len(t.attrName), maxAttrs)
	}
	return t, nil
}

// splitTab splits line at tabs into out, returning the number of fields
// (the last one keeps any surplus).
func splitTab(line string, out []string) int {
	n := 0
	for n < len(out)-1 {
		i := strings.IndexByte(line, '\t')
		if i < 0 {
			break
		}
		out[n] = line[:i]
		line = line[i+1:]
		n++
	}
	out[n] = line
	return n + 1
}

func containsAttr(l []uint16, a uint16) bool {
	for _, x := range l {
		if x == a {
			return true
		}
	}
	return false
}

// hacNumber reads the HAC number from a diagnosis's HAC attribute
// ("HAC05", "hac06_sdx", "hac11_pdx").
func hacNumber(a string) (int, bool) {
	if len(a) < 5 || !strings.EqualFold(a[:3], "hac") {
		return 0, false
	}
	n, err := strconv.Atoi(a[3:5])
	if err != nil || n < 1 || n > 14 || strings.HasSuffix(a, "_proc") || strings.HasSuffix(a, "_pdx") {
		return 0, false
	}
	return n, true
}

// excludes reports whether principal diagnosis pdx makes secondary diagnosis
// sdx a non-CC: the CC-exclusion collection of the principal diagnosis
// lists the secondary diagnoses it excludes.
func (t *table) excludes(pdx, sdx int32) bool {
	if pdx < 0 || sdx < 0 || t.dxs[pdx].excl < 0 {
		return false
	}
	l := t.excl[t.dxs[pdx].excl]
	i := sort.Search(len(l), func(i int) bool { return l[i] >= sdx })
	return i < len(l) && l[i] == sdx
}

func (t *table) validDischarge(code int, on time.Time) bool {
	for _, r := range t.dstat {
		if r.code == code && !on.Before(r.from) && !on.After(r.to) {
			return true
		}
	}
	return false
}
