package httpapi

// RouteDoc describes a route for the OpenAPI document.
type RouteDoc struct {
	// Request is the component schema of the JSON request body; "" for none.
	Request string
	// Response is the component schema of the success body; "" for none.
	Response string
	// Status is the success status.
	Status int
	// Query lists the query parameters the route reads.
	Query []string
	// Text marks a non-JSON success body (metrics text, HTML).
	Text bool
}

func doc(req, resp string, status int, query ...string) RouteDoc {
	return RouteDoc{Request: req, Response: resp, Status: status, Query: query}
}

func docOps(resp string) RouteDoc { return RouteDoc{Response: resp, Status: 200} }

func docText() RouteDoc { return RouteDoc{Status: 200, Text: true} }
