// Package chat holds the text rules every part of opsbot shares: record ids as people write them (R-12,
// INC-7), sanitising untrusted text, UTF-8-safe truncation, names that do not highlight, durations and times
// as typed in chat, and IRC casefolding with the network's CASEMAPPING. It imports nothing of opsbot's, so the
// command families, the IRC transport and the pager notifiers use the same rules without depending on each
// other.
package chat
