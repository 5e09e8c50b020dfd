package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
	"github.com/switchboard-voice/switchboard/internal/storetest"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// TestUnreadableSecretDoesNotStallOutbox corrupts a tenant's stored signing
// secret: its delivery is recorded as a failed attempt (nothing is sent
// unsigned) and another tenant's delivery still goes out in the same pass.
func TestUnreadableSecretDoesNotStallOutbox(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		var received atomic.Int32
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { received.Add(1) }))
		defer receiver.Close()

		svc, db := newService(t, dsn, app.Config{Sender: webhook.NewSender(true)})
		admin := sb.Actor{Kind: sb.ActorAdmin}
		var tenants []*app.CreatedMainAccount
		for _, name := range []string{"Broken", "Fine"} {
			m, err := svc.CreateMainAccount(ctx, admin, sb.MainAccountCreate{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			actor := sb.Actor{Kind: sb.ActorAccount, Account: m.Account}
			url := receiver.URL + "/" + name
			if _, err := svc.PutWebhook(ctx, actor, m.Account.AuthID, app.WebhookUpdate{URL: sb.Some(&url)}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.CreateSubAccount(ctx, actor, m.Account.AuthID, sb.SubAccountCreate{Name: "sub"}); err != nil {
				t.Fatal(err)
			}
			tenants = append(tenants, m)
		}
		if err := db.Update(ctx, func(tx app.Tx) error {
			return tx.SetWebhookSecret(ctx, tenants[0].Account.ID, []byte("not a sealed secret"))
		}); err != nil {
			t.Fatal(err)
		}

		n, err := svc.DeliverDue(ctx, 10)
		if err != nil || n != 2 {
			t.Fatalf("DeliverDue = %d, %v; want 2 attempted", n, err)
		}
		if got := received.Load(); got != 1 {
			t.Fatalf("receiver got %d requests, want 1 (the healthy tenant's)", got)
		}
		for i, want := range []string{sb.DeliveryPending, sb.DeliverySucceeded} {
			actor := sb.Actor{Kind: sb.ActorAccount, Account: tenants[i].Account}
			page, err := svc.ListDeliveries(ctx, actor, tenants[i].Account.AuthID, app.DeliveryFilter{Limit: 10})
			if err != nil || page.Total != 1 {
				t.Fatalf("deliveries of tenant %d: %+v, %v", i, page, err)
			}
			d := page.Items[0]
			if d.Status != want || len(d.Attempts) != 1 {
				t.Errorf("tenant %d delivery: status %s with %d attempts, want %s with 1", i, d.Status, len(d.Attempts), want)
			}
			if i == 0 && (d.Attempts[0].Error == nil || *d.Attempts[0].Error != "signing secret unavailable") {
				t.Errorf("broken tenant's attempt error = %v", d.Attempts[0].Error)
			}
		}
	})
}
