package web

import (
	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

func storeIncident(service, summary string) store.Incident {
	return store.Incident{Severity: 2, Service: service, Summary: summary, DeclaredBy: "alice"}
}

func reqName(id uint64) string { return chat.FormatID(chat.KindRequest, id) }
