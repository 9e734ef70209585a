// Package tui is gridlock's terminal app: the board, the chat, the room
// list, the cluster sidebar and the key map, as a Bubble Tea model.
//
// It talks to the cluster only through the Cluster interface (the client
// library, or a fake in tests): it drains the events waiting there, and
// sends commands and queries. It must never import the replica or its
// runtime, nor write anything but frames to the terminal: logging is the
// caller's.
//
// # How it is driven
//
// Update takes one message: a key, a click, a resize, the cluster's events
// or a tick. The cluster's events are consumed in one place, Model.apply
// (apply.go), which keeps what the cluster said (the room, the cluster's
// view, the connection's status) and tells the parts what happened. Keys
// go to the overlay that is open, else to the part that has the focus.
// The app wakes only when something on screen changes with time (tick),
// and draws only when a message may have changed the screen (screen.go).
//
// # Where things are
//
// Every part of the screen has a file with its state, if it keeps any (a
// struct embedded in Model), its keys and its drawing:
//
//	model.go      Model, Init, Update's dispatch of keys and clicks, wait, tick
//	apply.go      the cluster's events: room, status, view, notices, acks, replies
//	common.go     what all parts share: clock, theme, keys, size and layout
//	view.go       the frame: the panes, their borders, whole-screen messages
//	board.go      the board: cursor, placing, claims, a move's outcome
//	boardview.go  drawing the board (highlights, owners' marks) and the line above it
//	notes.go      pencil marks: notes mode, candidates drawn small, the candidate bar
//	results.go    a round's results panel and the round's clock
//	spectator.go  what a spectator's app shows and refuses
//	chat.go       the chat pane: input, history, local lines, scroll
//	commands.go   the chat line's slash commands and completion
//	rooms.go      the room list overlay
//	help.go       the help overlay
//	sidebar.go    the sidebar's sections, and the cluster's nodes
//	scores.go     the scores
//	eventlog.go   the event log
//	presenter.go  the presenter panel of gridlock demo (Options.Presenter)
//	status.go     the status row and the key help under the panes
//	ask.go        the name screen (AskName), before the game
//	layout.go, keys.go, theme.go, text.go: where things go, the key map,
//	the paints, and width-aware text; screen.go and tui.go run it all on a
//	terminal: this process's, or another (Terminal), such as an SSH
//	session's, with its own size, input, output and colours.
package tui
