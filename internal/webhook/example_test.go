package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/switchboard-voice/switchboard/internal/webhook"
)

func ExampleSign() {
	body := []byte(`{"event":"subaccount.created","event_id":"evt_1"}`)
	fmt.Println(webhook.Sign("whsec_0123456789abcdefghijABCDEFGHIJ0123456789", body))
	// Output: sha256=0d32c3eeb302d992f0f8a02cf18ab5a638794de1153abcdadac9fec566986fd0
}

// A receiver checks the signature on the raw body before parsing it, and
// deduplicates on X-Vobiz-Event-Id (deliveries are at-least-once).
func ExampleVerify() {
	const secret = "whsec_0123456789abcdefghijABCDEFGHIJ0123456789"
	receive := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || !webhook.Verify(secret, body, r.Header.Get("X-Vobiz-Signature")) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Println("accepted", r.Header.Get("X-Vobiz-Event"), r.Header.Get("X-Vobiz-Event-Id"))
		w.WriteHeader(http.StatusNoContent)
	}

	body := `{"event":"subaccount.created","event_id":"evt_1"}`
	for _, sig := range []string{webhook.Sign(secret, []byte(body)), webhook.Sign("whsec_wrong", []byte(body))} {
		r := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(body))
		r.Header.Set("X-Vobiz-Signature", sig)
		r.Header.Set("X-Vobiz-Event", "subaccount.created")
		r.Header.Set("X-Vobiz-Event-Id", "evt_1")
		w := httptest.NewRecorder()
		receive(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// accepted subaccount.created evt_1
	// 204
	// 401
}
