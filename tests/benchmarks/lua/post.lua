-- POST the same JSON body on every request: BODY, set by the harness above (other
-- headers, such as Authorization, come from the command line).
wrk.method = "POST"
wrk.body = BODY
wrk.headers["Content-Type"] = "application/json"
