# Reference values for engagestats.models.pool (Rubin's rules, Barnard-Rubin df).
# Run from the repository root:  Rscript tests/reference/pool/reference.R
# R 4.2, mice 3.15, lme4, broom.mixed, geepack, jsonlite.
#
# 1. popmis (mice; Hox's pupil popularity data, 2000 pupils in 100 schools, 848 missing
#    `popular`) is imputed m = 5 times with mice's default pmm (seed 20261202). The
#    completed data sets are written to imputed.csv (.imp = 1..5) so Python fits the very
#    same data. The imputation model is irrelevant here: only the pooling is checked.
# 2. Per imputation: lm, lmer (REML), glmer (Laplace, tight control) and geeglm (exchangeable); the
#    per-imputation estimates and covariances go to fits.csv.
# 3. mice::pool on each list of fits (dfcom from broom / broom.mixed `df.residual`:
#    nobs - npar for lmer/glmer, nobs - p for lm/geeglm), and mice::pool(dfcom = 30).
# 4. The same pooled numbers by hand from the per-imputation coefficients and vcovs,
#    Barnard & Rubin (1999) written out, as an independent check of mice itself.
suppressPackageStartupMessages({
  library(mice); library(lme4); library(broom.mixed); library(geepack); library(jsonlite)
})
out <- "tests/reference/pool"
imp <- mice(popmis[, c("pupil", "school", "popular", "sex", "texp")], m = 5,
            seed = 20261202, printFlag = FALSE)
long <- complete(imp, "long")
long$hi <- as.integer(long$popular >= 6)
write.csv(long[, c(".imp", "pupil", "school", "popular", "sex", "texp", "hi")],
          file.path(out, "imputed.csv"), row.names = FALSE)

# lme4's default glmer stopping rule leaves estimates ~1e-3 short of the optimum (see
# tests/reference/glmer); tight tolerances make the reference the optimum itself.
ctl <- glmerControl(optimizer = c("bobyqa", "bobyqa"),
                    optCtrl = list(rhoend = 1e-10, maxfun = 1e5), tolPwrss = 1e-10)
fit_all <- function(kind) {
  lapply(1:5, function(i) {
    d <- long[long$.imp == i, ]
    d <- d[order(d$school, d$pupil), ]
    switch(kind,
      lm = lm(popular ~ sex + texp, data = d),
      lmer = lmer(popular ~ sex + texp + (1 | school), data = d, REML = TRUE),
      glmer = glmer(hi ~ sex + texp + (1 | school), data = d, family = binomial,
                    control = ctl),
      gee = geeglm(hi ~ sex + texp, id = school, data = d, family = binomial,
                   corstr = "exchangeable"))
  })
}

# Rubin's rules and Barnard-Rubin df by hand (mice floors lambda at 1e-4, as below).
by_hand <- function(fits, dfcom) {
  m <- length(fits)
  Q <- sapply(fits, function(f) if (inherits(f, "merMod")) fixef(f) else coef(f))
  U <- sapply(fits, function(f) diag(as.matrix(vcov(f))))
  qbar <- rowMeans(Q); ubar <- rowMeans(U)
  b <- apply(Q, 1, var)                      # between-imputation variance, divisor m - 1
  t <- ubar + (1 + 1 / m) * b                # total variance
  riv <- (1 + 1 / m) * b / ubar              # relative increase in variance
  lambda <- pmax((1 + 1 / m) * b / t, 1e-4)  # proportion of variance due to missingness
  df_old <- (m - 1) / lambda^2               # Rubin (1987)
  df_obs <- (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lambda)
  df <- if (is.infinite(dfcom)) df_old else df_old * df_obs / (df_old + df_obs)
  fmi <- (riv + 2 / (df + 3)) / (riv + 1)
  se <- sqrt(t); q <- qt(0.975, df)
  data.frame(term = names(qbar), estimate = qbar, ubar = ubar, b = b, t = t, riv = riv,
             lambda = lambda, df = df, fmi = fmi, se = se,
             p = 2 * pt(abs(qbar / se), df, lower.tail = FALSE),
             ci_low = qbar - q * se, ci_high = qbar + q * se, row.names = NULL)
}

per_fit <- list(); pooled <- list()
for (kind in c("lm", "lmer", "glmer", "gee")) {
  fits <- fit_all(kind)
  for (i in 1:5) {
    f <- fits[[i]]
    est <- if (inherits(f, "merMod")) fixef(f) else coef(f)
    V <- as.matrix(vcov(f))
    per_fit[[length(per_fit) + 1]] <- data.frame(
      model = kind, imp = i, term = names(est), estimate = unname(est),
      V, check.names = FALSE, row.names = NULL)
  }
  for (dfc in list(NULL, 30)) {
    p <- if (is.null(dfc)) pool(fits) else pool(fits, dfcom = dfc)
    s <- summary(p, conf.int = TRUE)
    pm <- p$pooled
    label <- if (is.null(dfc)) "mice_default" else "mice_dfcom30"
    pooled[[length(pooled) + 1]] <- data.frame(
      model = kind, source = label, term = as.character(pm$term), estimate = pm$estimate,
      ubar = pm$ubar, b = pm$b, t = pm$t, dfcom = pm$dfcom, df = pm$df, riv = pm$riv,
      lambda = pm$lambda, fmi = pm$fmi, se = s$std.error, p = s$p.value,
      ci_low = s$`2.5 %`, ci_high = s$`97.5 %`, row.names = NULL)
    dfcom_used <- pm$dfcom[1]
    h <- by_hand(fits, dfcom_used)
    pooled[[length(pooled) + 1]] <- cbind(
      data.frame(model = kind, source = sub("mice", "hand", label)),
      h[, c("term", "estimate", "ubar", "b", "t")], dfcom = dfcom_used,
      h[, c("df", "riv", "lambda", "fmi", "se", "p", "ci_low", "ci_high")])
  }
}
per_fit <- do.call(rbind, lapply(per_fit, function(d) {
  # wide vcov columns differ in name only by term; store as v_1..v_3 in term order
  names(d)[5:ncol(d)] <- paste0("v_", seq_len(ncol(d) - 4)); d }))
write.csv(per_fit, file.path(out, "fits.csv"), row.names = FALSE)
pooled <- do.call(rbind, pooled)
write.csv(pooled, file.path(out, "pooled.csv"), row.names = FALSE)
writeLines(toJSON(list(R = R.version.string, mice = as.character(packageVersion("mice")),
  lme4 = as.character(packageVersion("lme4")),
  geepack = as.character(packageVersion("geepack")), seed = 20261202), auto_unbox = TRUE),
  file.path(out, "versions.json"))
