-- wrk: POST the same body convex-importd sends for one sign-up, on every connection.
wrk.method = "POST"
wrk.path = "/api/action"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Convex-Client"] = "wrk-4.1.0"
wrk.body = '{"path":"auth:signIn","format":"json","args":{"provider":"password",'
    .. '"params":{"email":"user000000001@example.com","password":"ypahnzh%Unga",'
    .. '"flow":"signUp"}}}'
