package game

import "strconv"

var cmdNames = [...]string{
	CmdGenesis:      "genesis",
	CmdOpenSession:  "open session",
	CmdCloseSession: "close session",
	CmdDisconnect:   "disconnect",
	CmdPlace:        "place",
	CmdClaim:        "claim",
	CmdRelease:      "release",
	CmdChat:         "chat",
	CmdCreateRoom:   "create room",
	CmdJoinRoom:     "join room",
	CmdLeaveRoom:    "leave room",
	CmdTick:         "tick",
	CmdViewChange:   "view change",
	CmdRollback:     "rollback",
	CmdMembership:   "membership",
	CmdNote:         "note",
	CmdClearNotes:   "clear notes",
}

// String names the command kind in words ("place", "create room").
func (k CmdKind) String() string {
	if int(k) < len(cmdNames) && cmdNames[k] != "" {
		return cmdNames[k]
	}
	return "command(" + strconv.Itoa(int(k)) + ")"
}

var eventNames = [...]string{
	EvSessionOpened:  "session opened",
	EvSessionResumed: "session resumed",
	EvDisconnected:   "disconnected",
	EvSessionClosed:  "session closed",
	EvJoined:         "joined",
	EvLeft:           "left",
	EvPlaced:         "placed",
	EvMissed:         "missed",
	EvClaimed:        "claimed",
	EvReleased:       "released",
	EvRoundOver:      "round over",
	EvRoundStarted:   "round started",
	EvChat:           "chat",
	EvRoomCreated:    "room created",
	EvViewChange:     "view change",
	EvRollback:       "rollback",
	EvNotes:          "notes",
}

// String names the event kind in words.
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

var reasonNames = [...]string{
	ReleasedByPlayer: "released",
	ReleasedByPlace:  "filled",
	ReleasedByMove:   "moved",
	ReleasedByLeave:  "left",
	ReleasedByExpiry: "expired",
	ReleasedByRound:  "round over",
}

// String says in a word why a claim ended.
func (r ReleaseReason) String() string {
	if int(r) < len(reasonNames) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}
