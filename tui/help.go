package tui

import "strings"

func (m *Model) helpPane(lines []string) {
	th := m.th
	w := m.lay.leftW
	i := 0
	put := func(s string) {
		if i < len(lines) {
			lines[i] = fit(s, w)
			i++
		}
	}
	put(" " + th.titleOn.r("keys"))
	h := m.help
	h.Width = w - 2
	for _, s := range strings.Split(h.FullHelpView(m.keys.fullHelp()), "\n") {
		put("  " + s)
	}
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
	put("  " + th.dim.r(truncate("LEVEL  easy medium hard expert (default medium)", w-2)))
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
