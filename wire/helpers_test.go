package wire

import (
	"fmt"
	"testing"
)

func TestNodeIDString(t *testing.T) {
	for id, want := range map[NodeID]string{0: "n0", 3: "n3", 10: "n10", 65535: "n65535"} {
		if got := id.String(); got != want {
			t.Errorf("NodeID(%d).String() = %q, want %q", uint16(id), got, want)
		}
		if got := fmt.Sprint(id); got != want {
			t.Errorf("fmt.Sprint(NodeID(%d)) = %q, want %q", uint16(id), got, want)
		}
	}
	// %d still prints the bare number.
	if got := fmt.Sprintf("%d", NodeID(3)); got != "3" {
		t.Errorf("%%d of NodeID(3) = %q", got)
	}
}
