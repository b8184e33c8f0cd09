package web_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/web"
)

func TestKeepCards(t *testing.T) {
	var made atomic.Int32
	cards := web.KeepCards(50*time.Millisecond, func(ctx context.Context) ([]web.Card, error) {
		n := made.Add(1)
		return []web.Card{{Slot: "x", Title: "made " + string(rune('0'+n))}}, nil
	})
	as := func(id string, roles ...string) context.Context {
		return custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: id, Kind: "user", Roles: roles})
	}
	dana := as("dana", "him-director")
	first, err := cards(dana)
	if err != nil || len(first) != 1 || first[0].AsOf.IsZero() {
		t.Fatalf("first view: %v, %v", first, err)
	}
	if again, _ := cards(dana); again[0].Title != first[0].Title || made.Load() != 1 {
		t.Errorf("a second view within the time made the cards again (%d made)", made.Load())
	}
	if other, _ := cards(as("cody", "coder")); other[0].Title == first[0].Title || made.Load() != 2 {
		t.Errorf("another user was shown the first user's cards")
	}
	time.Sleep(60 * time.Millisecond)
	stale, _ := cards(dana) // shown at once, made again behind it
	if stale[0].Title != first[0].Title {
		t.Errorf("an expired view waited for new cards: %q", stale[0].Title)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := cards(dana)
		if got[0].Title != first[0].Title && got[0].AsOf.After(first[0].AsOf) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cards were never made again")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKeptForget(t *testing.T) {
	var n atomic.Int32
	k := &web.Kept[int32]{TTL: time.Hour, Make: func(context.Context) (int32, error) { return n.Add(1), nil }}
	ctx := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "cody", Kind: "user", Roles: []string{"coder"}})
	for _, tc := range []struct {
		name   string
		forget bool
		want   int32
	}{
		{"first view", false, 1},
		{"kept", false, 1},
		{"after Forget", true, 2},
	} {
		if tc.forget {
			k.Forget()
		}
		if v, _, _ := k.Get(ctx); v != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, v, tc.want)
		}
	}
	off := &web.Kept[int32]{Make: func(context.Context) (int32, error) { return n.Add(1), nil }}
	a, _, _ := off.Get(ctx)
	if b, at, _ := off.Get(ctx); b == a || !at.IsZero() {
		t.Error("with no TTL a value was kept")
	}
}
