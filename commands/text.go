package commands

// MaxInputBytes caps one command line after sanitising.
const MaxInputBytes = 1000
