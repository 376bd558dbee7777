package seeds

import "testing"

// TestDeriveReproducesRecordedSeeds pins Derive to values computed by the
// three functions it replaced (experiment's subSeed, method's lsSeed and
// clSeed) before they were folded into it: a change here changes every
// result, and needs a ProtocolVersion bump.
func TestDeriveReproducesRecordedSeeds(t *testing.T) {
	for _, c := range []struct {
		base int64
		name string
		want int64
	}{
		{0, "weak-head", 8804511171195463238},
		{7, "gold-budget", 7649687861571576517},
		{1, Lead("calibrate"), 3331907930801569556},
		{3, Lead("bootstrap", "2", "glove"), 3081430450114817975},
		{1, Trail("selective", "pik"), 6122336766129704506},
		{-5, Trail("fold", "0"), 5795112909851070240},
	} {
		if got := Derive(c.base, c.name); got != c.want {
			t.Errorf("Derive(%d, %q) = %d, want %d", c.base, c.name, got, c.want)
		}
	}
}

func TestJoinsAreUnambiguous(t *testing.T) {
	if Lead("ab", "c") == Lead("a", "bc") || Trail("ab", "c") == Trail("a", "bc") {
		t.Error("a join maps two different part lists to the same name")
	}
	if Lead("a", "b") != "\x00a\x00b" || Trail("a", "b") != "a\x00b\x00" {
		t.Errorf("Lead = %q, Trail = %q", Lead("a", "b"), Trail("a", "b"))
	}
}

// TestGroupReproducesRecordedSeeds pins Group to the statistics' earlier
// groupSeed: every reported interval and p-value depends on it.
func TestGroupReproducesRecordedSeeds(t *testing.T) {
	if got := Group(0, "signflip", "sentiment", "bow"); got != -846663340764286778 {
		t.Errorf("Group(0, signflip, sentiment, bow) = %d", got)
	}
	if got := Group(42, "pgr"); got != 2599174445768564744 {
		t.Errorf("Group(42, pgr) = %d", got)
	}
}
