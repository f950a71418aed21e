# Reference values for tests/analyses/test_monitoring.py (R 4.2, base stats only).
# Run from the repository root:  Rscript tests/reference/monitoring/monitoring_reference.R
# Writes wilson.csv, curve_coefficients.csv and cuts.csv beside this script.
here <- "tests/reference/monitoring"

# --- Wilson score intervals: prop.test(x, n, correct = FALSE)$conf.int -------------
cases <- data.frame(k = c(196, 179, 0, 5, 12, 50), n = c(358, 224, 20, 5, 40, 60),
                    level = c(0.95, 0.95, 0.95, 0.90, 0.99, 0.95))
cases$ci_low <- NA; cases$ci_high <- NA
for (i in seq_len(nrow(cases))) {
  ci <- prop.test(cases$k[i], cases$n[i], correct = FALSE,
                  conf.level = cases$level[i])$conf.int
  cases$ci_low[i] <- ci[1]; cases$ci_high[i] <- ci[2]
}
write.csv(cases, file.path(here, "wilson.csv"), row.names = FALSE)

# --- Expected recovery curve: the same monitoring frame as engagestats ----------------
p <- read.csv(file.path(here, "panel.csv"))
p <- p[order(p$client_id, p$session), ]
scored <- p[!is.na(p$phq9_total), ]
first <- scored[!duplicated(scored$client_id), ]          # intake = first scored session
p$intake <- first$phq9_total[match(p$client_id, first$client_id)]
p$intake_session <- first$session[match(p$client_id, first$client_id)]
p$cov_autonomous <- first$srq_autonomous[match(p$client_id, first$client_id)]
p$k <- p$session - p$intake_session + 1
fit_rows <- function(with_cov) {
  ok <- !is.na(p$phq9_total) & !is.na(p$intake) & p$k >= 2
  if (with_cov) ok <- ok & !is.na(p$cov_autonomous)
  keep_clients <- unique(p$client_id[!is.na(p$intake) &
                                     (!with_cov | !is.na(p$cov_autonomous))])
  centre_rows <- first[first$client_id %in% keep_clients, ]
  d <- p[ok, ]
  d$c <- d$intake - mean(centre_rows$phq9_total)
  d$v <- d$cov_autonomous - mean(centre_rows$srq_autonomous)
  d$lk <- log(d$k)
  d$lin <- d$k - 1
  d
}
out <- list()
# model 1: time = "log", no covariates
d <- fit_rows(FALSE)
m <- lm(phq9_total ~ c + lk + lk:c, data = d)
r2 <- residuals(m)^2
g <- glm(r2 ~ lk + c, data = d, family = Gamma(link = "log"),
         control = glm.control(epsilon = 1e-14, maxit = 200))
# alarm cuts: type-7 quantiles of the standardised deviations (higher PHQ-9 = worse)
dev <- residuals(m) / sqrt(fitted(g))
cuts <- data.frame(tail = c(0.25, 0.10, 0.05),
                   cut = unname(quantile(dev, 1 - c(0.25, 0.10, 0.05), type = 7)))
write.csv(cuts, file.path(here, "cuts.csv"), row.names = FALSE)
out[[1]] <- data.frame(model = "log", part = "mean",
                       term = c("(Intercept)", "intake", "log_session", "log_session:intake"),
                       estimate = unname(coef(m)))
out[[2]] <- data.frame(model = "log", part = "log_variance",
                       term = c("(Intercept)", "log_session", "intake"),
                       estimate = unname(coef(g)))
# model 2: time = "log_linear", covariate autonomous
d <- fit_rows(TRUE)
m <- lm(phq9_total ~ c + v + lk + lin + lk:c + lin:c + lk:v + lin:v, data = d)
r2 <- residuals(m)^2
g <- glm(r2 ~ lk + lin + c, data = d, family = Gamma(link = "log"),
         control = glm.control(epsilon = 1e-14, maxit = 200))
out[[3]] <- data.frame(model = "log_linear_autonomous", part = "mean",
                       term = c("(Intercept)", "intake", "autonomous", "log_session",
                                "sessions_since_intake", "log_session:intake",
                                "sessions_since_intake:intake", "log_session:autonomous",
                                "sessions_since_intake:autonomous"),
                       estimate = unname(coef(m)))
out[[4]] <- data.frame(model = "log_linear_autonomous", part = "log_variance",
                       term = c("(Intercept)", "log_session", "sessions_since_intake", "intake"),
                       estimate = unname(coef(g)))
res <- do.call(rbind, out)
write.csv(res, file.path(here, "curve_coefficients.csv"), row.names = FALSE)
cat("n rows model 1:", nrow(fit_rows(FALSE)), " model 2:", nrow(fit_rows(TRUE)), "\n")
print(res)
