"""How newsmon runs: docker-compose for production, a no-Docker local stack for dev and CI."""
