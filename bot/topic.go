package bot

import (
	"errors"
	"fmt"

	"github.com/ergochat/irc-go/ircmsg"
	"github.com/lrstanley/girc"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/commands/chat"
)

// The transport implements commands.Topic, so the incidents family can show open incidents in the topic.
var _ commands.Topic = (*transport)(nil)

// addTopicHandlers tracks the topic of the channels the bot is in. It does not read girc's channel state:
// girc v1.1.2 applies MODE changes to a channel under its state's read lock, so LookupChannel (which copies
// the modes) races with them. On joining, a server sends RPL_TOPIC (332) when the channel has a topic, then
// the names list up to RPL_ENDOFNAMES (366); so after 366 without 332 the topic is known to be empty. Until
// then it is unknown, and the bot does not mistake a topic it has not seen yet for an empty one.
func (t *transport) addTopicHandlers(cs *connState) {
	h := cs.client.Handlers
	h.Add(girc.RPL_TOPIC, func(_ *girc.Client, e girc.Event) { // 332 <me> <channel> :<topic>
		if len(e.Params) >= 3 {
			t.setTopic(cs, e.Params[1], e.Last(), true)
		}
	})
	h.Add(girc.RPL_NOTOPIC, func(_ *girc.Client, e girc.Event) { // 331 <me> <channel> :No topic is set
		if len(e.Params) >= 2 {
			t.setTopic(cs, e.Params[1], "", true)
		}
	})
	h.Add(girc.TOPIC, func(_ *girc.Client, e girc.Event) { // TOPIC <channel> :<topic>, also our own echoed
		if len(e.Params) >= 1 {
			text := ""
			if len(e.Params) >= 2 {
				text = e.Last()
			}
			t.setTopic(cs, e.Params[0], text, true)
		}
	})
	h.Add(girc.RPL_ENDOFNAMES, func(_ *girc.Client, e girc.Event) { // 366 <me> <channel> :End of /NAMES list
		if len(e.Params) >= 2 {
			t.setTopic(cs, e.Params[1], "", false)
		}
	})
	forget := func(c *girc.Client, e girc.Event) {
		if e.Source != nil && len(e.Params) > 0 && t.isMe(c, e.Source.Name) {
			t.forgetTopic(cs, e.Params[0])
		}
	}
	h.Add(girc.JOIN, forget)
	h.Add(girc.PART, forget)
	h.Add(girc.KICK, func(c *girc.Client, e girc.Event) {
		if len(e.Params) >= 2 && t.isMe(c, e.Params[1]) {
			t.forgetTopic(cs, e.Params[0])
		}
	})
	h.Add(girc.ERR_CHANOPRIVSNEEDED, func(_ *girc.Client, e girc.Event) {
		t.o.Log.Warn("irc: the server refused a channel operator command (to show incidents in the topic, give the bot op or set -t)",
			"reply", e.Last())
	})
}

// setTopic records channel's topic; with replace false it only marks a still unknown topic as empty.
func (t *transport) setTopic(cs *connState, channel, topic string, replace bool) {
	f := t.roles.Fold(channel)
	t.mu.Lock()
	defer t.mu.Unlock()
	if cs.topics == nil {
		cs.topics = map[string]string{}
	}
	if _, known := cs.topics[f]; replace || !known {
		cs.topics[f] = topic
	}
}

func (t *transport) forgetTopic(cs *connState, channel string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(cs.topics, t.roles.Fold(channel))
}

// Topic returns channel's current topic; ok is false while the bot is not in the channel or has not
// learnt its topic yet.
func (t *transport) Topic(channel string) (string, bool) {
	_, topic, ok := t.topicOf(channel)
	return topic, ok
}

// topicOf returns the live connection and channel's topic, when the bot is in channel and knows its topic.
func (t *transport) topicOf(channel string) (*connState, string, bool) {
	f := t.roles.Fold(channel)
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := t.cur
	if cs == nil || !cs.registered || !cs.joined[f] {
		return nil, "", false
	}
	topic, ok := cs.topics[f]
	return cs, topic, ok
}

// SetTopic sets the topic of one of the configured channels. The text must already be clean (no formatting
// or control codes), fit the server's TOPICLEN and make a valid line of at most 512 bytes. On a +t channel
// the bot needs channel op (or half-op). The server's answer is not awaited: the caller sees the change in
// Topic once the server has echoed it, and a refusal only in the log.
func (t *transport) SetTopic(channel, text string) error {
	if !girc.IsValidChannel(channel) || !t.isOurChannel(channel) {
		return fmt.Errorf("irc: refusing to set the topic of unconfigured channel %q", channel)
	}
	if chat.Sanitize(text) != text {
		return errors.New("irc: topic text has control or formatting characters")
	}
	cs, _, ok := t.topicOf(channel)
	if !ok {
		return errNotReady
	}
	c := cs.client
	if n, ok := c.GetServerOptionInt("TOPICLEN"); ok && n > 0 && len(text) > n {
		return fmt.Errorf("irc: topic of %d bytes is longer than the server's TOPICLEN %d", len(text), n)
	}
	m := ircmsg.MakeMessage(nil, "", girc.TOPIC, channel, text)
	if _, err := m.LineBytesStrict(true, MaxLineBytes-sourceReserve); err != nil {
		return fmt.Errorf("irc: invalid topic line for %s: %w", channel, err)
	}
	c.Cmd.Topic(channel, text)
	return nil
}
