package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/gridlock-game/gridlock/game"
)

func cmdGenerate(args []string) error {
	fs := newFlags("generate", "gridlock generate [--size 4|6|9] [--difficulty LEVEL] [--seed N] [--solution] [--json]", "gridlock generate --size 9 --difficulty expert --seed 7 --solution")
	size := fs.Int("size", 9, "4, 6 or 9")
	diff := fs.String("difficulty", "medium", "easy, medium, hard or expert")
	seed := fs.Uint64("seed", 1, "the same seed gives the same puzzle")
	sol := fs.Bool("solution", false, "print the solution too")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	d, err := game.ParseDifficulty(*diff)
	if err != nil {
		return usagef("%v", err)
	}
	if *size != 4 && *size != 6 && *size != 9 {
		return usagef("--size %d: sizes are 4, 6 and 9", *size)
	}
	p, err := game.GenerateSeed(uint8(*size), d, *seed)
	if err != nil {
		return err
	}
	if *asJSON {
		if !*sol {
			p.Solution = nil
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	fmt.Printf("%d×%d %s · seed %d\n\n", p.Size, p.Size, p.Difficulty, p.Seed)
	fmt.Print(game.FormatGrid(p.Size, p.BoxRows, p.BoxCols, p.Givens))
	if *sol {
		fmt.Printf("\nsolution (the only one):\n\n")
		fmt.Print(game.FormatGrid(p.Size, p.BoxRows, p.BoxCols, p.Solution))
	}
	return nil
}
