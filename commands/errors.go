package commands

import "fmt"

// UserError is an error meant for the person who typed the command; its text is shown as is.
type UserError struct {
	Msg string
	Err error // the cause, for errors.Is (nil: none)
}

func (e *UserError) Error() string { return e.Msg }

func (e *UserError) Unwrap() error { return e.Err }

// Errorf builds a *UserError. By convention the text starts with "error: " or "usage: ".
func Errorf(format string, args ...any) error { return &UserError{Msg: fmt.Sprintf(format, args...)} }
