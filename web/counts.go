package web

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// Counts keeps the dashboard's counts of the record current, so that the
// dashboard reads them rather than counting a large record on each view:
// the records received per day (every version of a received type a write
// adds, on the UTC day of its lastUpdated) and, through Encounters, the
// encounters by class. Each count is kept twice, with and without the
// records that carry a sensitive label, so a user who may not see those
// is never shown them counted.
//
// Register Watcher on the store first, then run Seed once (in the
// background: without an index on lastUpdated it reads the resources
// table once per day counted); versions written from the moment NewCounts
// was called are the watcher's, older ones the seed's, so none is counted
// twice. The watcher sees this process's writes only: with several nodes,
// each node's dashboard counts what it wrote after its own start.
type Counts struct {
	// Encounters, if set, gives the current encounters by class (v3
	// ActCode), with or without the sensitive ones (package measure's
	// Record keeps them: Record.EncounterClasses). Without it the
	// dashboard counts them by searching.
	Encounters func(sensitive bool) (map[string]int64, error)

	start time.Time
	mu    sync.Mutex
	// days are the versions received by UTC day (days since 1970):
	// [0] all of them, [1] those without a sensitive label.
	days     map[int64]*[2]int64
	seededAt time.Time
	seedErr  error
	// uncounted are the days before start the seed could not count.
	uncounted []time.Time
}

// NewCounts returns empty counts that take writes from now on.
func NewCounts(now time.Time) *Counts {
	return &Counts{start: now, days: map[int64]*[2]int64{}}
}

func unixDay(t time.Time) int64 { return t.UTC().Unix() / 86400 }

// received reports whether typ is counted as received.
func received(typ string) bool { return slices.Contains(receivedTypes, typ) }

// Watcher returns the store.Watcher that counts each version written.
func (c *Counts) Watcher() store.Watcher {
	return func(_ context.Context, versions []*store.Resource) {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, v := range versions {
			if v.Deleted || !received(v.Type) || v.LastUpdated.Before(c.start) {
				continue
			}
			d := c.day(unixDay(v.LastUpdated))
			d[0]++
			if !v.Sensitive {
				d[1]++
			}
		}
	}
}

// day returns the counts of day d; c.mu must be held.
func (c *Counts) day(d int64) *[2]int64 {
	x := c.days[d]
	if x == nil {
		x = &[2]int64{}
		c.days[d] = x
	}
	return x
}

// Seed counts the resources whose current version was stored in the
// dashboardDays days before NewCounts (a search per day, and one more for
// those with a sensitive label), through records as the actor of ctx,
// which must see every record (a system actor).
func (c *Counts) Seed(ctx context.Context, records Records) error {
	first := c.start.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(dashboardDays - 1))
	var labels []string
	for sys, codes := range store.SensitiveLabels {
		for code := range codes {
			labels = append(labels, sys+"|"+code)
		}
	}
	slices.Sort(labels)
	// One search at a time, newest day first: without an index on
	// lastUpdated each reads the resources table, and a day the store
	// gives up on (ETIMEOUT) is left uncounted rather than failing all.
	for i := dashboardDays - 1; i >= 0; i-- {
		from := first.AddDate(0, 0, i)
		to := from.AddDate(0, 0, 1)
		if c.start.Before(to) {
			to = c.start
		}
		if !from.Before(to) {
			continue
		}
		vals := func() url.Values {
			return url.Values{"_type": {strings.Join(receivedTypes, ",")},
				"_lastUpdated": {"ge" + from.Format(time.RFC3339Nano), "lt" + to.UTC().Format(time.RFC3339Nano)}}
		}
		all, err := count(ctx, records, vals())
		var sensitive int64
		if err == nil {
			v := vals()
			v.Set("_security", strings.Join(labels, ","))
			sensitive, err = count(ctx, records, v)
		}
		c.mu.Lock()
		switch {
		case custodian.ErrorCode(err) == custodian.ETIMEOUT:
			c.uncounted = append(c.uncounted, from)
		case err != nil:
			c.seedErr = err
			c.mu.Unlock()
			return err
		default:
			d := c.day(unixDay(from))
			d[0] += all
			d[1] += all - sensitive
		}
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.seededAt, c.seedErr = time.Now(), nil
	c.mu.Unlock()
	return nil
}

// Seeded returns when Seed finished (zero until it has) and the error that
// stopped it, if one did.
func (c *Counts) Seeded() (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seededAt, c.seedErr
}

// count runs a counting search of vals through records.
func count(ctx context.Context, records Records, vals url.Values) (int64, error) {
	vals.Set("_summary", "count")
	q, _, err := records.ParseQuery("", vals, true)
	if err != nil {
		return 0, err
	}
	q.Text = "?" + vals.Encode()
	p, err := records.Search(ctx, q)
	if err != nil {
		return 0, err
	}
	return p.Total, nil
}

// receivedPerDay returns the dashboardDays days up to today, with or
// without the sensitive records; ok is false until Seed has finished.
// note names the days (before start) that could not be counted.
func (c *Counts) receivedPerDay(today time.Time, sensitive bool) (ch Chart, ok bool, note string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seedErr != nil {
		return Chart{}, false, "", c.seedErr
	}
	if c.seededAt.IsZero() {
		return Chart{}, false, "", nil
	}
	var days []string
	for _, d := range c.uncounted {
		if !d.Before(today.AddDate(0, 0, -(dashboardDays - 1))) {
			days = append(days, d.Format("01-02"))
		}
	}
	if len(days) > 0 {
		slices.Sort(days)
		note = "Records received before " + c.start.UTC().Format("2006-01-02 15:04") + " UTC on " + strings.Join(days, ", ") +
			" could not be counted (the store took too long: it has no index on lastUpdated); those days show only what arrived since."
	}
	k := 1
	if sensitive {
		k = 0
	}
	ch = Chart{ID: "received", Title: "Records received per day, last 14 days (UTC)", Unit: "records"}
	for i := range dashboardDays {
		day := today.AddDate(0, 0, i-(dashboardDays-1))
		var n int64
		if d := c.days[unixDay(day)]; d != nil {
			n = d[k]
		}
		ch.Points = append(ch.Points, Point{Label: day.Format("01-02"), Value: float64(n), When: day})
	}
	barChart(&ch)
	return ch, true, note, nil
}

// encountersByClass returns the encounters by class from Encounters; ok
// is false while they are not known yet (the record is being read).
func (c *Counts) encountersByClass(sensitive bool) (Chart, bool, error) {
	byClass, err := c.Encounters(sensitive)
	if custodian.ErrorCode(err) == custodian.EUNAVAILABLE {
		return Chart{}, false, nil
	}
	if err != nil {
		return Chart{}, false, err
	}
	counts := make([]int64, len(encounterClasses))
	for i, cl := range encounterClasses {
		counts[i] = byClass[cl.code]
	}
	return classChart(counts), true, nil
}
