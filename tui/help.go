package tui

import "strings"

func (m *Model) helpPane(lines []string) {
	th := m.th
	w := m.lay.leftW
	var out []string
	put := func(s string) { out = append(out, fit(s, w)) }
	put(" " + th.titleOn.r("keys"))
	for _, s := range m.keysHelp(w - 2) {
		put("  " + s)
	}
	grid := len(out)
	// The chat line's own keys, which otherwise only its footer shows.
	for _, s := range wrap("in the chat: enter send · tab complete · ↑↓ lines sent before · pgup/pgdn scroll", w-2, w-4) {
		put("  " + th.dim.r(s))
	}
	chatKeys := len(out) - grid
	m.presenterHelp(put)
	keys := len(out)
	put("")
	put(" " + th.titleOn.r("commands"))
	cw := 0
	for _, c := range slashCommands {
		cw = max(cw, width(helpUsage(c)))
	}
	for _, c := range slashCommands {
		var l line
		l.addW(paint{}, "  ", 2)
		l.add(th.key, "/"+c.name)
		if c.args != "" {
			l.add(th.text, " "+helpArgs(c))
		}
		l.pad(2 + cw + 2)
		l.addMax(th.dim, c.about, w)
		put(l.String())
	}
	put("  " + th.dim.r(truncate("SIZE   4, 6 or 9 (default 9)", w-2)))
	put("  " + th.dim.r(truncate("LEVEL  easy, medium (default), hard or expert", w-2)))
	if len(out) > len(lines) && len(out)-chatKeys <= len(lines) {
		out = append(out[:grid], out[grid+chatKeys:]...)
	}
	if len(out) > len(lines) {
		// Too short for it all (the smallest terminals): the commands'
		// usages alone, run together.
		out = append(out[:grid], out[grid+chatKeys:keys]...)
		put(" " + th.titleOn.r("commands"))
		var us []string
		for _, c := range slashCommands {
			us = append(us, helpUsage(c))
		}
		for _, l := range wrap(strings.Join(us, " · "), w-3, w-3) {
			put("  " + th.key.r(l))
		}
	}
	copy(lines, out)
}

// keysHelp lays the keys out in as many columns as fit w, top to bottom.
func (m *Model) keysHelp(w int) []string {
	th := m.th
	keys := m.keys.fullHelp()
	kw, dw := 0, 0
	for _, k := range keys {
		kw, dw = max(kw, width(k.Help().Key)), max(dw, width(k.Help().Desc))
	}
	colW := kw + 1 + dw
	cols := max(1, (w+2)/(colW+2))
	rows := (len(keys) + cols - 1) / cols
	out := make([]string, rows)
	for r := range rows {
		var l line
		for c := range cols {
			i := c*rows + r
			if i >= len(keys) {
				break
			}
			l.pad(c * (colW + 2))
			l.add(th.key, keys[i].Help().Key)
			l.pad(c*(colW+2) + kw + 1)
			l.addMax(th.dim, keys[i].Help().Desc, w)
		}
		out[r] = l.String()
	}
	return out
}

func helpArgs(c slashCommand) string {
	if c.name == "create" {
		return "NAME [SIZE] [LEVEL]"
	}
	return c.args
}

func helpUsage(c slashCommand) string {
	if c.args == "" {
		return "/" + c.name
	}
	return "/" + c.name + " " + helpArgs(c)
}
