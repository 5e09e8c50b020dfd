package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	sb "github.com/switchboard-voice/switchboard"
	"github.com/switchboard-voice/switchboard/internal/app"
	"github.com/switchboard-voice/switchboard/internal/storetest"
)

// TestQuotaUnderConcurrency sends more concurrent creates than
// max_sub_accounts allows: exactly the quota is created, the others get
// quota_exceeded, on both engines.
func TestQuotaUnderConcurrency(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		svc, _ := newService(t, dsn, app.Config{})
		const quota, attempts = 3, 12
		main, err := svc.CreateMainAccount(ctx, sb.Actor{Kind: sb.ActorAdmin},
			sb.MainAccountCreate{Name: "Quota", MaxSubAccounts: sb.Some(quota)})
		if err != nil {
			t.Fatal(err)
		}
		actor := sb.Actor{Kind: sb.ActorAccount, Account: main.Account}
		var wg sync.WaitGroup
		codes := make([]string, attempts)
		for i := range attempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.CreateSubAccount(ctx, actor, main.Account.AuthID, sb.SubAccountCreate{Name: fmt.Sprintf("sub %d", i)})
				codes[i] = sb.ErrorCode(err)
			}()
		}
		wg.Wait()
		count := map[string]int{}
		for _, c := range codes {
			count[c]++
		}
		if count[""] != quota || count[sb.EQuotaExceeded] != attempts-quota {
			t.Fatalf("outcomes %v, want %d created and %d quota_exceeded", count, quota, attempts-quota)
		}
		page, err := svc.ListSubAccounts(ctx, actor, main.Account.AuthID, app.SubAccountFilter{Limit: 100})
		if err != nil || page.Total != quota {
			t.Fatalf("list total %v, %v; want %d", page, err, quota)
		}
	})
}
