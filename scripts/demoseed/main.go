// Command demoseed fills the demo's database with a few months of history (store/demo), once: `make run`
// calls it before starting the bot, so that every web page has something to show. A database that already
// has a service catalogue is left alone.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/store/demo"
)

func main() {
	path := flag.String("db", "opsbot.db", "the bbolt file to seed")
	flag.Parse()
	if err := seed(*path); err != nil {
		fmt.Fprintln(os.Stderr, "demoseed:", err)
		os.Exit(1)
	}
}

func seed(path string) error {
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	if done, err := demo.Seeded(st); err != nil || done {
		if done {
			fmt.Println("demoseed: the demo database already has its history")
		}
		return err
	}
	if err := demo.Seed(st, time.Now()); err != nil {
		return err
	}
	fmt.Println("demoseed: wrote the demo's history to", path)
	return nil
}
