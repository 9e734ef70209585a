package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/gridlock-game/gridlock/demo"
	"github.com/gridlock-game/gridlock/node"
)

// demoChildFlag takes serve's hidden flag out of args: --demo-child=PID,
// which only `gridlock demo` passes to the nodes it starts (so it is in no
// --help). It returns the other arguments and the PID (0: not given).
func demoChildFlag(args []string) ([]string, int, error) {
	var rest []string
	parent := 0
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(a, "=")
		if name != demo.ChildFlag && name != demo.ChildFlag[1:] {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return nil, 0, usagef("%s needs the demo's pid", demo.ChildFlag)
			}
			i++
			value = args[i]
		}
		pid, err := strconv.Atoi(value)
		if err != nil || pid <= 1 {
			return nil, 0, usagef("%s %q: the pid of the demo", demo.ChildFlag, value)
		}
		parent = pid
	}
	return rest, parent, nil
}

// demoChild makes this node one of a demo's: it stops at once if the demo
// that started it is gone already (it died before the parent-death signal
// was armed), and it gets a fault switch in its way to its peers that
// SIGUSR1 turns on (cut off) and SIGUSR2 off (healed). Other nodes have
// no switch, and SIGUSR1 ends them as it ends any program.
func demoChild(o *node.Options, parent int, log *slog.Logger) error {
	if os.Getppid() != parent {
		return errors.New("the demo that started this node is gone")
	}
	sw := &node.FaultSwitch{}
	inner := o.PeerNetwork
	if inner == nil {
		inner = o.Network
	}
	if inner == nil {
		inner = node.RealNetwork()
	}
	o.PeerNetwork = sw.Wrap(inner)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for s := range sigs {
			cut := s == syscall.SIGUSR1
			sw.Set(cut)
			log.Warn(fmt.Sprintf("demo: fault switch %s", map[bool]string{true: "on: cut off from the peers", false: "off: healed"}[cut]))
		}
	}()
	return nil
}
