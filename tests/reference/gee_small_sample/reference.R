# Mancl-DeRouen (2001) bias-reduced sandwich for a logistic GEE, by hand on geepack fits.
# Run: Rscript tests/reference/gee_small_sample/reference.R  (writes ohio30.csv, reference.json)
#
# V_MD = A^-1 [ sum_i D_i' V_i^-1 (I - H_ii)^-1 r_i r_i' (I - H_ii)^-T V_i^-1 D_i ] A^-1,
# A = sum_i D_i' V_i^-1 D_i, H_ii = D_i A^-1 D_i' V_i^-1, D_i = diag(mu(1-mu)) X_i,
# V_i = phi A_i^1/2 R(alpha) A_i^1/2 (phi cancels). The plain sandwich (no (I - H)^-1) is
# checked against geepack's own vbeta first, so the hand computation is the one geepack uses.
suppressMessages(library(geepack))
library(jsonlite)
here <- "tests/reference/gee_small_sample"

data(ohio, package = "geepack")
ohio30 <- ohio[ohio$id %% 18 == 0, ]  # 30 children (every 18th) x 4 ages: few clusters
write.csv(ohio30, file.path(here, "ohio30.csv"), row.names = FALSE)
dropout <- read.csv("tests/reference/glmer/dropout.csv")

md <- function(fit, X, y, id, corstr) {
  beta <- coef(fit)
  alpha <- if (corstr == "exchangeable") summary(fit)$corr$Estimate else 0
  mu <- as.vector(plogis(X %*% beta))
  A <- matrix(0, ncol(X), ncol(X))
  parts <- list()
  for (g in unique(id)) {
    i <- which(id == g)
    Xi <- X[i, , drop = FALSE]
    w <- mu[i] * (1 - mu[i])
    Di <- w * Xi
    R <- matrix(alpha, length(i), length(i)); diag(R) <- 1
    Vi <- diag(sqrt(w), length(i)) %*% R %*% diag(sqrt(w), length(i))
    Vinv <- solve(Vi)
    A <- A + t(Di) %*% Vinv %*% Di
    parts[[length(parts) + 1]] <- list(D = Di, Vinv = Vinv, r = y[i] - mu[i])
  }
  Ainv <- solve(A)
  B0 <- B1 <- matrix(0, ncol(X), ncol(X))
  for (p in parts) {
    u0 <- t(p$D) %*% p$Vinv %*% p$r
    H <- p$D %*% Ainv %*% t(p$D) %*% p$Vinv
    adj <- solve(diag(nrow(H)) - H, p$r)
    u1 <- t(p$D) %*% p$Vinv %*% adj
    B0 <- B0 + u0 %*% t(u0)
    B1 <- B1 + u1 %*% t(u1)
  }
  list(robust = Ainv %*% B0 %*% Ainv, md = Ainv %*% B1 %*% Ainv)
}

case <- function(formula, data, idcol, corstr) {
  d <- data[order(data[[idcol]]), ]
  d <- d[complete.cases(d[all.vars(formula)]), ]
  d$.id <- as.integer(factor(d[[idcol]]))
  fit <- geeglm(formula, id = .id, data = d, family = binomial, corstr = corstr)
  X <- model.matrix(formula, d)
  y <- model.response(model.frame(formula, d))
  v <- md(fit, X, y, d$.id, corstr)
  stopifnot(max(abs(v$robust - fit$geese$vbeta)) < 1e-8 * max(abs(v$robust)))
  list(
    call = sprintf("geeglm(%s, id = %s, family = binomial, corstr = '%s'); MD by hand",
                   deparse(formula), idcol, corstr),
    terms = colnames(X),
    "coef(fit)" = unname(coef(fit)),
    "alpha" = if (corstr == "exchangeable") summary(fit)$corr$Estimate else 0,
    "sqrt(diag(fit$geese$vbeta))" = sqrt(diag(fit$geese$vbeta)),
    "sqrt(diag(V_MD))" = sqrt(diag(v$md)),
    "V_MD" = unname(v$md),
    n_clusters = length(unique(d$.id)),
    nobs = nrow(d)
  )
}

out <- list(
  versions = list(R = R.version.string, geepack = as.character(packageVersion("geepack"))),
  ohio30_exchangeable = case(resp ~ age + smoke, ohio30, "id", "exchangeable"),
  ohio30_independence = case(resp ~ age + smoke, ohio30, "id", "independence"),
  dropout_exchangeable = case(dropout ~ autonomy + readiness + stage, dropout,
                              "therapist_id", "exchangeable")
)
write_json(out, file.path(here, "reference.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
