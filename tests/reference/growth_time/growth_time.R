# Reference values for tests/analyses/test_growth_time.py: growth_model(time_method = "log")
# and growth_model(time_method = "piecewise", knots = 4) on the bundled sample (data/sample).
# Run from the repo root: Rscript tests/reference/growth_time/growth_time.R
# Input: panel.csv (written by make_panel.py: the rows and centred predictors growth_model
# analyses; `time` = sessions since the client's first). The time terms are recoded here.
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(jsonlite)})
here <- "tests/reference/growth_time"
d <- read.csv(file.path(here, "panel.csv"), stringsAsFactors = FALSE)
d$format <- factor(d$format)
knot <- 4
d$log_time <- log1p(d$time)                # prep.time_code(method = "log")
d$time_p1 <- pmin(d$time, knot)            # prep.time_code(method = "piecewise", knots = 4)
d$time_p2 <- pmax(d$time - knot, 0)
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6))
k <- 10                                    # expected change from the first session to k later

fixed_table <- function(fit) {
  co <- summary(fit)$coefficients
  data.frame(
    term = rownames(co),
    `fixef(fit)` = co[, "Estimate"],
    `summary(fit)$coefficients[, "Std. Error"]` = co[, "Std. Error"],
    `summary(fit)$coefficients[, "df"]` = co[, "df"],
    check.names = FALSE
  )
}
varcorr_table <- function(fit) {
  vc <- as.data.frame(VarCorr(fit))
  names(vc)[names(vc) == "vcov"] <- "as.data.frame(VarCorr(fit))$vcov"
  vc
}
# the mean at time t (sessions since the first) of the average client (predictors at 0,
# format averaged over its levels by the shares of clients), and the change from t = 0
row_at <- function(fit, codes, share_individual = 0) {
  b <- fixef(fit)
  x <- setNames(numeric(length(b)), names(b))
  x["(Intercept)"] <- 1
  for (nm in names(codes)) x[nm] <- codes[[nm]]
  if ("formatindividual" %in% names(b)) {
    x["formatindividual"] <- share_individual
    for (nm in names(codes)) x[paste0(nm, ":formatindividual")] <- codes[[nm]] * share_individual
  }
  x
}
# a new client's prediction SD at time t: x'Vx + z'Gz + therapist variance + residual
prediction_sd <- function(fit, x, z) {
  V <- as.matrix(vcov(fit))
  vc <- VarCorr(fit)
  G <- as.matrix(vc$client_id)
  sqrt(drop(t(x) %*% V %*% x) + drop(t(z) %*% G %*% z) + vc$therapist_id[1, 1] + sigma(fit)^2)
}
share <- mean(tapply(d$format, d$client_id, function(f) as.character(f[1])) == "individual")

# ---- log time: phq9 ~ log_time * (autonomous + readiness) * format
f_log <- trimws(readLines(file.path(here, "formula_log.txt")))
fit_log <- lmer(as.formula(f_log), data = d, REML = TRUE, control = ctrl)
write.csv(fixed_table(fit_log), file.path(here, "fixed_log.csv"), row.names = FALSE)
write.csv(varcorr_table(fit_log), file.path(here, "varcorr_log.csv"), row.names = FALSE)
x0 <- row_at(fit_log, list(log_time = 0), share)
xk <- row_at(fit_log, list(log_time = log1p(k)), share)
change_log <- contest(fit_log, rbind(xk - x0), joint = FALSE)
mean_log <- contest(fit_log, rbind(xk), joint = FALSE)
L <- matrix(0, 2, length(fixef(fit_log)), dimnames = list(NULL, names(fixef(fit_log))))
L[1, "log_time:autonomous:formatindividual"] <- 1
L[2, "log_time:autonomous"] <- 1
L[2, "log_time:autonomous:formatindividual"] <- 1
mod_test <- contest(fit_log, L[1, , drop = FALSE], joint = TRUE)
simple <- contest(fit_log, L[2, , drop = FALSE], joint = FALSE)

# ---- piecewise: phq9 ~ (time_p1 + time_p2) * (autonomous + readiness), knot at 4
f_pw <- trimws(readLines(file.path(here, "formula_piecewise.txt")))
fit_pw <- lmer(as.formula(f_pw), data = d, REML = TRUE, control = ctrl)
write.csv(fixed_table(fit_pw), file.path(here, "fixed_piecewise.csv"), row.names = FALSE)
write.csv(varcorr_table(fit_pw), file.path(here, "varcorr_piecewise.csv"), row.names = FALSE)
p0 <- row_at(fit_pw, list(time_p1 = 0, time_p2 = 0))
pk <- row_at(fit_pw, list(time_p1 = min(k, knot), time_p2 = max(k - knot, 0)))
change_pw <- contest(fit_pw, rbind(pk - p0), joint = FALSE)
mean_pw <- contest(fit_pw, rbind(pk), joint = FALSE)
sd_pw <- prediction_sd(fit_pw, pk, c(1, min(k, knot), max(k - knot, 0)))
sd_log <- prediction_sd(fit_log, xk, c(1, log1p(k)))

out <- list(
  formula_log = f_log,
  formula_piecewise = f_pw,
  k = k,
  share_individual = share,
  `contest(fit_log, x(k) - x(0))$Estimate` = change_log$Estimate,
  `contest(fit_log, x(k) - x(0))$Std. Error` = change_log$`Std. Error`,
  `contest(fit_log, x(k) - x(0))$df` = change_log$df,
  `contest(fit_log, x(k))$Estimate` = mean_log$Estimate,
  `contest(fit_log, x(k))$Std. Error` = mean_log$`Std. Error`,
  `sqrt(x'Vx + z'Gz + s2_therapist + sigma^2), log, t = k` = sd_log,
  `contest(fit_log, log_time:autonomous:formatindividual, joint = TRUE)$F value` =
    mod_test$`F value`,
  `contest(fit_log, log_time:autonomous:formatindividual, joint = TRUE)$DenDF` = mod_test$DenDF,
  `contest(fit_log, autonomous slope in individual)$Estimate` = simple$Estimate,
  `contest(fit_log, autonomous slope in individual)$Std. Error` = simple$`Std. Error`,
  `contest(fit_pw, x(k) - x(0))$Estimate` = change_pw$Estimate,
  `contest(fit_pw, x(k) - x(0))$Std. Error` = change_pw$`Std. Error`,
  `contest(fit_pw, x(k) - x(0))$df` = change_pw$df,
  `contest(fit_pw, x(k))$Estimate` = mean_pw$Estimate,
  `contest(fit_pw, x(k))$Std. Error` = mean_pw$`Std. Error`,
  `sqrt(x'Vx + z'Gz + s2_therapist + sigma^2), piecewise, t = k` = sd_pw,
  `REMLcrit(fit_log)` = REMLcrit(fit_log),
  `REMLcrit(fit_pw)` = REMLcrit(fit_pw),
  `isSingular(fit_log)` = isSingular(fit_log),
  `isSingular(fit_pw)` = isSingular(fit_pw),
  R = R.version.string,
  lme4 = as.character(packageVersion("lme4")),
  lmerTest = as.character(packageVersion("lmerTest"))
)
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "reference.json"))
